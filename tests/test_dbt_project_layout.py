"""The dbt project reads like the best dbt projects: a local project evaluator.

It reads the files of dbt_project/models directly (YAML and SQL: no dbt parse, no database; it
runs in well under a second) and checks, per model (a `.sql` file under models/):

* ``prefix``: its name carries the prefix its top folder requires (``PREFIXES``): staging/
  ``stg_``, intermediate/ ``int_``, marts/ ``fct_`` or ``dim_``, audit/ ``aud_``;
* ``own_yml``: ``<name>.yml`` sits beside ``<name>.sql`` and describes that model alone, with
  the model's unit tests (the jaffle-shop layout);
* ``description``: the model has a description;
* ``unique_key``: it has a unique-key test: a ``unique`` column test, a
  ``unique_combination_of_columns`` test (the project's own, tests/generic) or a primary-key
  constraint;
* ``column_descriptions``: every column of a model with an enforced contract is described, and
  every column an audit view selects is listed in its yml and described.

Besides, every YAML file under models/ is either ``__sources.yml`` (sources only), the one
``exposures.yml`` at the top of models/ (exposures only: who uses the project's output), or one
model's yml (no sources, no other model, no other model's unit tests).

A model may break a rule only by an exception recorded, with its reason, in
dbt_project/layout_exceptions.yml. An exception whose rule the model now meets fails too, so the
list can only shrink.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from registry.core import settings

MODELS_DIR = settings.DBT_PROJECT_DIR / "models"
EXCEPTIONS_FILE = settings.DBT_PROJECT_DIR / "layout_exceptions.yml"
PREFIXES: dict[str, tuple[str, ...]] = {
    "staging": ("stg_",),
    "intermediate": ("int_",),
    "marts": ("fct_", "dim_"),
    "audit": ("aud_",),
}
EVERY_COLUMN_DESCRIBED = ("audit",)  # folders whose views must describe every column they select
RULES = ("prefix", "own_yml", "description", "unique_key", "column_descriptions")
SOURCES_FILE = "__sources.yml"
EXPOSURES_FILE = "exposures.yml"  # models/exposures.yml: the project's consumers, and nothing else
UNIQUE_TESTS = ("unique", "unique_combination_of_columns")


@dataclass
class Project:
    models_dir: Path
    models: dict[str, Path] = field(default_factory=dict)  # model name -> its .sql
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # model name -> its entry in <name>.yml
    file_problems: list[str] = field(default_factory=list)  # not one model's: never an exception

    def folder(self, name: str) -> str:
        parts = self.models[name].relative_to(self.models_dir).parts
        return parts[0] if len(parts) > 1 else ""

    def rel(self, path: Path) -> str:
        return path.relative_to(self.models_dir.parent).as_posix()


def read_project(models_dir: Path) -> Project:
    project = Project(models_dir)
    for sql in sorted(models_dir.rglob("*.sql")):
        if sql.stem in project.models:
            project.file_problems.append(f"{project.rel(sql)}: a second model named {sql.stem}")
        project.models[sql.stem] = sql
    for yml in sorted([*models_dir.rglob("*.yml"), *models_dir.rglob("*.yaml")]):
        rel = project.rel(yml)
        doc = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
        keys = set(doc) - {"version"}
        if yml.name == EXPOSURES_FILE and yml.parent == models_dir:
            if keys - {"exposures"}:
                project.file_problems.append(f"{rel}: {EXPOSURES_FILE} holds exposures only, not "
                                             f"{sorted(keys - {'exposures'})}")
            continue
        if yml.name == SOURCES_FILE:
            if keys - {"sources"}:
                other = sorted(keys - {"sources"})
                project.file_problems.append(f"{rel}: a {SOURCES_FILE} holds sources only, not {other}")
            continue
        if keys - {"models", "unit_tests"}:
            project.file_problems.append(
                f"{rel}: holds {sorted(keys - {'models', 'unit_tests'})}; a model's yml holds that model and its unit "
                f"tests, sources go in a {SOURCES_FILE}")
        described = [entry.get("name") for entry in doc.get("models") or []]
        if described != [yml.stem]:
            project.file_problems.append(
                f"{rel}: describes {described or 'no model'}; a model's yml is named after it and describes it alone")
        elif not yml.with_suffix(".sql").is_file():
            project.file_problems.append(f"{rel}: there is no {yml.stem}.sql beside it")
        else:
            project.entries[yml.stem] = doc["models"][0]
        for test in doc.get("unit_tests") or []:
            if test.get("model") != yml.stem:
                project.file_problems.append(
                    f"{rel}: unit test {test.get('name')} tests {test.get('model')}; it belongs in that model's yml")
    return project


def contracts_outside_model_ymls(project_dir: Path) -> list[str]:
    """The evaluator reads a model's contract from its yml: a contract configured elsewhere
    (dbt_project.yml, a config() block) would escape the column rule."""
    found = [f"{sql.relative_to(project_dir).as_posix()}: contract set in SQL"
             for sql in sorted((project_dir / "models").rglob("*.sql"))
             if re.search(r"config\s*\([^)]*\bcontract\b", sql.read_text(encoding="utf-8"), re.DOTALL)]
    config = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    if "contract" in repr(config.get("models")):
        found.append("dbt_project.yml: contract set for a folder")
    return found


# ------------------------------------------------------------------------------------ the SQL
_LEXEME = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)
JINJA = "__jinja__"


def _plain(sql: str) -> str:
    """The SQL with Jinja, comments and string literals out of the way (a Jinja expression becomes
    one placeholder word, a string literal '')."""
    text = re.sub(r"\{#.*?#\}", " ", sql, flags=re.DOTALL)
    text = re.sub(r"\{\{.*?\}\}", f" {JINJA} ", text, flags=re.DOTALL)
    text = re.sub(r"\{%.*?%\}", " ", text, flags=re.DOTALL)
    return _LEXEME.sub(lambda m: "''" if m.group(0).startswith("'") else " ", text)


def _depths(text: str) -> list[int]:
    depth, out = 0, []
    for char in text:
        if char == ")":
            depth -= 1
        out.append(depth)
        if char == "(":
            depth += 1
    return out


def _top_level(text: str, pattern: str) -> list[re.Match[str]]:
    depth = _depths(text)
    return [m for m in re.finditer(pattern, text, re.IGNORECASE) if depth[m.start()] == 0]


def _closing_paren(text: str, opening: int) -> int:
    depth = 0
    for index in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise ValueError("unbalanced parentheses")


def _split_ctes(text: str) -> tuple[dict[str, str], str]:
    ctes: dict[str, str] = {}
    head = re.match(r"\s*with\s+(recursive\s+)?", text, re.IGNORECASE)
    if not head:
        return ctes, text
    position = head.end()
    while True:
        named = re.compile(r"\s*(\w+)\s+as\s*\(", re.IGNORECASE).match(text, position)
        if not named:
            raise ValueError("cannot read the CTEs")
        end = _closing_paren(text, named.end() - 1)
        ctes[named.group(1).lower()] = text[named.end():end]
        comma = re.compile(r"\s*,").match(text, end + 1)
        if not comma:
            return ctes, text[end + 1:]
        position = comma.end()


def _select_list(query: str, ctes: dict[str, str]) -> list[str] | None:
    set_operations = _top_level(query, r"\b(?:union|except|intersect)\b")
    if set_operations:  # the first branch names the columns
        query = query[:set_operations[0].start()]
    selects = _top_level(query, r"\bselect\b")
    if not selects:
        return None
    start = selects[0].end()
    froms = [m for m in _top_level(query, r"\bfrom\b")  # not the `from` of `is distinct from`
             if m.start() > start and not re.search(r"\bdistinct\s+$", query[:m.start()], re.IGNORECASE)]
    items_text = query[start:froms[0].start()] if froms else query[start:]
    items_text = re.sub(r"^\s*(distinct|all)\b", "", items_text, flags=re.IGNORECASE)
    cuts = [-1, *(m.start() for m in _top_level(items_text, ",")), len(items_text)]
    items = [items_text[a + 1:b].strip() for a, b in itertools.pairwise(cuts)]
    columns: list[str] = []
    for item in items:
        if item == "*" or item.endswith(".*"):  # followed only into a CTE that is the first source
            source = re.compile(r"\s*(\w+)(?:\s+(?:as\s+)?(\w+))?", re.IGNORECASE).match(query, froms[0].end()) \
                if froms else None
            names = {n.lower() for n in source.groups() if n} if source else set()
            if not source or source.group(1).lower() not in ctes or (item != "*" and item[:-2].lower() not in names):
                return None
            inner = select_columns(ctes[source.group(1).lower()], ctes)
            if inner is None:
                return None
            columns += inner
            continue
        alias = re.search(r"\bas\s+\"?(\w+)\"?\s*$", item, re.IGNORECASE) or \
            re.fullmatch(r"(?:\w+\.)*\"?(\w+)\"?", item)
        if not alias or alias.group(1) == JINJA:
            return None
        columns.append(alias.group(1).lower())
    return columns


def select_columns(sql: str, ctes: dict[str, str] | None = None) -> list[str] | None:
    """The column names a model's final select gives (a `select *` from a CTE is followed into
    it), or None when they cannot be told from the text (then write the columns out)."""
    try:
        own, query = _split_ctes(_plain(sql) if ctes is None else sql)
        return _select_list(query, {**(ctes or {}), **own})
    except ValueError:
        return None


# -------------------------------------------------------------------------------- the rules
def _tests(node: dict[str, Any]) -> list[Any]:
    return [*(node.get("data_tests") or []), *(node.get("tests") or [])]


def _test_name(test: Any) -> str:
    return test if isinstance(test, str) else next(iter(test), "")


def has_unique_key(entry: dict[str, Any]) -> bool:
    def primary_key(node: dict[str, Any]) -> bool:
        return any(c.get("type") == "primary_key" for c in node.get("constraints") or [])

    columns = entry.get("columns") or []
    return (any(_test_name(t) == "unique_combination_of_columns" for t in _tests(entry))
            or any(_test_name(t) == "unique" for c in columns for t in _tests(c))
            or primary_key(entry) or any(primary_key(c) for c in columns))


def column_problem(project: Project, name: str, entry: dict[str, Any]) -> str | None:
    listed = {c.get("name"): str(c.get("description") or "").strip() for c in entry.get("columns") or []}
    problems = []
    if ((entry.get("config") or {}).get("contract") or {}).get("enforced"):
        problems += [f"contracted, {column} has no description" for column, text in listed.items() if not text]
    if project.folder(name) in EVERY_COLUMN_DESCRIBED:
        selected = select_columns(project.models[name].read_text(encoding="utf-8"))
        if selected is None:
            problems.append("cannot tell the columns it selects (write its final select as a list of columns)")
        else:
            problems += [f"{column} is not described" for column in selected if not listed.get(column)]
            problems += [f"its yml lists {column}, which it does not select"
                         for column in listed if column not in selected]
    return "; ".join(problems) or None


def offences(project: Project) -> dict[tuple[str, str], str]:
    """(model, rule) -> what is wrong, for every rule a model breaks (before exceptions)."""
    found: dict[tuple[str, str], str] = {}
    for name, sql in project.models.items():
        where, folder = project.rel(sql), project.folder(name)
        prefixes = PREFIXES.get(folder)
        if prefixes is None:
            found[name, "prefix"] = f"{where}: folder {folder or 'models/'} has no prefix rule (PREFIXES)"
        elif not name.startswith(prefixes):
            found[name, "prefix"] = f"{where}: a model in {folder}/ is named {' or '.join(prefixes)}..."
        entry = project.entries.get(name)
        if entry is None:
            found[name, "own_yml"] = f"{where}: no {name}.yml beside it describing it"
            entry = {}
        if not str(entry.get("description") or "").strip():
            found[name, "description"] = f"{where}: no description"
        if not has_unique_key(entry):
            found[name, "unique_key"] = f"{where}: no unique test, unique_combination_of_columns or primary key"
        problem = column_problem(project, name, entry)
        if problem:
            found[name, "column_descriptions"] = f"{where}: {problem}"
    return found


def read_exceptions(path: Path, models: set[str]) -> tuple[dict[tuple[str, str], str], list[str]]:
    """(model, rule) -> reason, and what is wrong with the file itself."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    recorded: dict[tuple[str, str], str] = {}
    problems = []
    for entry in doc.get("exceptions") or []:
        model, rule, reason = entry.get("model"), entry.get("rule"), str(entry.get("reason") or "").strip()
        if set(entry) != {"model", "rule", "reason"}:
            problems.append(f"{entry}: an exception has exactly model, rule and reason")
        if model not in models:
            problems.append(f"{model}: an exception for a model that does not exist")
        if rule not in RULES:
            problems.append(f"{model}: unknown rule {rule!r} (rules: {', '.join(RULES)})")
        if not reason:
            problems.append(f"{model} / {rule}: an exception needs its reason")
        if (model, rule) in recorded:
            problems.append(f"{model} / {rule}: recorded twice")
        recorded[model, rule] = reason
    return recorded, problems


def evaluate(project: Project, exceptions: dict[tuple[str, str], str]) -> tuple[dict[tuple[str, str], str], list]:
    """The offences no exception covers, and the exceptions that no longer apply."""
    found = offences(project)
    return ({k: v for k, v in found.items() if k not in exceptions}, sorted(k for k in exceptions if k not in found))


# ----------------------------------------------------------------------- the project's checks
@pytest.fixture(scope="module")
def project() -> Project:
    return read_project(MODELS_DIR)


@pytest.fixture(scope="module")
def exceptions(project: Project) -> dict[tuple[str, str], str]:
    return read_exceptions(EXCEPTIONS_FILE, set(project.models))[0]


def test_there_are_models_to_check(project: Project) -> None:
    assert len(project.models) >= 20 and set(map(project.folder, project.models)) == set(PREFIXES)


def test_every_yml_is_one_models_or_a_sources_file(project: Project) -> None:
    problems = project.file_problems + contracts_outside_model_ymls(settings.DBT_PROJECT_DIR)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("rule", RULES)
def test_every_model_follows_the_rule(rule: str, project: Project, exceptions: dict[tuple[str, str], str]) -> None:
    found, _ = evaluate(project, exceptions)
    broken = sorted(text for (_, r), text in found.items() if r == rule)
    assert not broken, (f"rule {rule} broken (fix the model, or record an exception with its reason in "
                        f"{EXCEPTIONS_FILE.name}):\n  " + "\n  ".join(broken))


def test_exceptions_are_recorded_with_reasons_and_still_apply(project: Project) -> None:
    recorded, problems = read_exceptions(EXCEPTIONS_FILE, set(project.models))
    _, stale = evaluate(project, recorded)
    problems += [f"{model} / {rule}: the model now follows the rule; remove the exception" for model, rule in stale]
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ the evaluator itself
def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root / "models"


GOOD_YML = """version: 2
models:
  - name: {name}
    description: A model.
    columns:
      - name: id
        description: The key.
        data_tests: [unique]
"""


def test_the_evaluator_catches_every_rule(tmp_path: Path) -> None:
    models = _write(tmp_path, {
        "models/staging/stg_a.sql": "select 1 as id",
        "models/staging/stg_a.yml": GOOD_YML.format(name="stg_a"),
        "models/marts/orders.sql": "select 1 as id",
        "models/marts/fct_x.sql": "select 1 as id, 2 as n",
        "models/marts/fct_x.yml": "models:\n  - name: fct_x\n    config: {contract: {enforced: true}}\n"
                                  "    columns:\n      - {name: id, data_type: int}\n",
        "models/audit/aud_v.sql": "with t as (select 1 as a)\nselect a, a + 1 as b from t",
        "models/audit/aud_v.yml": "models:\n  - name: aud_v\n    description: A view.\n"
                                  "    data_tests: [{unique_combination_of_columns: {combination_of_columns: [a]}}]\n"
                                  "    columns:\n      - {name: a, description: A.}\n"
                                  "      - {name: c, description: C.}\n",
        "models/intermediate/int_p.sql": "select 1 as id",
        "models/intermediate/int_q.sql": "select 1 as id",
        "models/intermediate/_intermediate.yml": "models:\n  - name: int_p\n  - name: int_q\n",
        "models/intermediate/int_r.sql": "select 1 as id",
        "models/intermediate/int_r.yml": GOOD_YML.format(name="int_r")
        + "unit_tests:\n  - {name: t, model: int_p}\nsources:\n  - name: raw\n",
    })
    project = read_project(models)
    assert set(offences(project)) == {
        ("orders", "prefix"), ("orders", "own_yml"), ("orders", "description"), ("orders", "unique_key"),
        ("fct_x", "description"), ("fct_x", "unique_key"), ("fct_x", "column_descriptions"),
        ("aud_v", "column_descriptions"),
        ("int_p", "own_yml"), ("int_p", "description"), ("int_p", "unique_key"),
        ("int_q", "own_yml"), ("int_q", "description"), ("int_q", "unique_key"),
    }
    assert "b is not described" in offences(project)["aud_v", "column_descriptions"]
    assert "lists c" in offences(project)["aud_v", "column_descriptions"]
    problems = "\n".join(project.file_problems)
    assert "_intermediate.yml: describes ['int_p', 'int_q']" in problems
    assert "unit test t tests int_p" in problems and "holds ['sources']" in problems

    recorded = {("orders", "prefix"): "a reason", ("stg_a", "unique_key"): "no longer true"}
    left, stale = evaluate(project, recorded)
    assert ("orders", "prefix") not in left and stale == [("stg_a", "unique_key")]


def test_the_exceptions_file_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "layout_exceptions.yml"
    path.write_text("exceptions:\n"
                    "  - {model: stg_a, rule: prefix, reason: ''}\n"
                    "  - {model: gone, rule: prefix, reason: x}\n"
                    "  - {model: stg_a, rule: no_such_rule, reason: x}\n", encoding="utf-8")
    _, problems = read_exceptions(path, {"stg_a"})
    assert len(problems) == 3, problems


@pytest.mark.parametrize(("sql", "columns"), [
    ("select a, t.b, c as d, count(*) as n from t group by a, t.b, c", ["a", "b", "d", "n"]),
    ("-- it's a comment, from x\nselect {{ f('x, y') }} as k, 'a, b' as s from {{ ref('m') }}", ["k", "s"]),
    ("select (select sum(x) from y where y.id = t.id) as total, case when a then 1 end as c from t", ["total", "c"]),
    ("with t as (select a, b as c from x), u as (select 1 as z)\nselect * from t union select * from t", ["a", "c"]),
    ("select distinct a, b is distinct from c as changed from t", ["a", "changed"]),
    ("with t as (select a from x)\nselect t.*, u.b from t inner join u on u.a = t.a", ["a", "b"]),
    ("with t as (select a from x)\nselect u.* from t inner join u on u.a = t.a", None),
    ("select a + 1 from t", None),
    ("select {{ col }} from t", None),
    ("select * from {{ ref('m') }}", None),
])
def test_select_columns(sql: str, columns: list[str] | None) -> None:
    assert select_columns(sql) == columns


def test_docs_have_an_overview_and_exposures_with_owners(project: Project) -> None:
    """dbt docs open on our overview, and the lineage ends in who uses the output (list files, the
    Parquet export, the auditors' snapshot), each exposure owned and depending on real models."""
    overview = [p for p in MODELS_DIR.rglob("*.md") if "{% docs __overview__ %}" in p.read_text(encoding="utf-8")]
    assert len(overview) == 1, "one docs block __overview__ (dbt docs' home page)"
    assert "How to read the lineage" in overview[0].read_text(encoding="utf-8")
    doc = yaml.safe_load((MODELS_DIR / EXPOSURES_FILE).read_text(encoding="utf-8"))
    exposures = {e["name"]: e for e in doc["exposures"]}
    assert {"disbursement_list", "list_parquet_export", "auditors_snapshot"} <= set(exposures)
    for name, exposure in exposures.items():
        assert exposure.get("owner", {}).get("name") and exposure.get("description") and exposure.get("tags"), name
        refs = [re.fullmatch(r"ref\('(\w+)'\)", d) for d in exposure["depends_on"]]
        models = [m.group(1) for m in refs if m]
        assert models, f"{name} depends on no model"
        assert set(models) <= set(project.models), f"{name}: unknown models {set(models) - set(project.models)}"
    audit_models = {m for m in project.models if project.folder(m) == "audit"}
    assert audit_models <= {m.group(1) for d in exposures["auditors_snapshot"]["depends_on"]
                            if (m := re.fullmatch(r"ref\('(\w+)'\)", d))}
