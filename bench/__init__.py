"""Benchmarks of the registry against DuckDB's own floor (see bench/README.md and docs/scaling.md)."""
