"""Declarative sources: one YAML spec per source in `sources/`, one generic reader, one landing path.

* `spec`       reads and checks `sources/<name>.yml` (light: no pandas, duckdb or openpyxl, so the
               Airflow DAG factory can import it at parse time);
* `values`     value converters (Chinese dates, 万元 amounts, codes) and the built-in value maps;
* `readers`    CSV / XLSX / JSON files -> header + rows with their row number in the original file;
* `mapping`    one source record -> contract field texts (columns, aliases, maps, constants);
* `transforms` the registry of small per-source row transforms, for what a spec cannot say.

`registry.ingest` lands any source through these; `registry.sources.check` is its dry run.
"""
