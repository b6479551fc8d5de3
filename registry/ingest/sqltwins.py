"""SQL twins of the contract (`registry.core.contracts`): the set-based check of step 3.

For each contract field, a twin is a SQL predicate `ok(v)` over the field's mapped text `v` and the
typed value `value(v)`: whenever `ok(v)` holds, the contract's own Python parser accepts `v` and
returns exactly that value. A twin may say "not ok" for a text the parser accepts (full-width
digits, `5.`, a padded code): that row is then checked by the Python parser itself, so its value or
its quarantine reason is the parser's. Twins never decide a reason. `tests/test_set_based_ingest.py`
property-tests every twin against its parser (Hypothesis).

Likewise `rules_broken` is true for every row whose cross-field rules (`Contract.row_rules`: what
each event kind needs, the programme vocabulary, the plausibility ceilings, the dates against the
clock) might fail; those rows go to Python, which states the reason. The vocabularies, ceilings and
date windows are read from `registry.core` here, never restated.

USCCs: the GB 32100 structure and both check characters in SQL; positions 3-8 against GB/T 2260 by
`registry.core.uscc.division_problem`, once per distinct code (`batch._Plan.shape_memo`).
"""


from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from registry.core import contracts, vocabulary
from registry.core.uscc import CHARSET, WEIGHTS_17, WEIGHTS_18

# DuckDB types of the contract fields, as the raw tables store them (registry/store/schema.py).
FIELD_TYPES: dict[str, str] = {
    "effective_date": "date", "published_date": "date", "registered_date": "date",
    "amount": "decimal(18, 2)", "revenue": "decimal(18, 2)", "profit": "decimal(18, 2)", "wages": "decimal(18, 2)",
    "fiscal_year": "integer", "rank": "integer",
}

_BODY36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_USCC_CLASS = "[" + CHARSET + "]"
USCC_RE = f"{_USCC_CLASS}{{2}}[0-9]{{6}}{_USCC_CLASS}{{8}}[0-9X]{_USCC_CLASS}"
# text(): C0, DEL and C1 controls, bidirectional overrides, noncharacters (a DuckDB string holds no surrogates)
_CONTROL_RE = r"[\x00-\x1f\x7f-\x9f\x{202a}-\x{202e}\x{2066}-\x{2069}\x{fffe}\x{ffff}]"


def field_type(name: str) -> str:
    return FIELD_TYPES.get(name, "varchar")


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def in_list(values: object) -> str:
    return "(" + ", ".join(lit(str(v)) for v in sorted(values)) + ")"  # type: ignore[call-overload]


def uscc_shape_ok(v: str) -> str:
    """SQL: `v` is a canonical USCC whose GB 11714 (17th) and GB 32100 (18th) check characters are right."""
    c17_sum = " + ".join(f"(instr('{_BODY36}', substr({v}, {9 + i}, 1)) - 1) * {w}" for i, w in enumerate(WEIGHTS_17))
    c17 = f"(11 - ({c17_sum}) % 11)"
    c17_char = f"(case {c17} when 10 then 'X' when 11 then '0' else cast({c17} as varchar) end)"
    c18_sum = " + ".join(f"(instr('{CHARSET}', substr({v}, {i + 1}, 1)) - 1) * {w}" for i, w in enumerate(WEIGHTS_18))
    c18_char = f"substr('{CHARSET}', (31 - ({c18_sum}) % 31) % 31 + 1, 1)"
    return (f"(regexp_full_match({v}, '{USCC_RE}') and substr({v}, 17, 1) = {c17_char} "
            f"and substr({v}, 18, 1) = {c18_char})")


def date_ok(v: str) -> str:
    return (f"(regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') and try_cast({v} as date) between "
            f"date '{contracts.EARLIEST_DATE}' and date '{contracts.LATEST_DATE}')")


def yuan_ok(v: str, signed: bool = False) -> str:
    # at most 16 integer digits: DECIMAL(18, 2); two decimals at most; no -0 (Python keeps its sign)
    sign = "-?" if signed else ""
    check = f"regexp_full_match({v}, '{sign}[0-9]{{1,16}}(\\.[0-9]{{1,2}})?')"
    if signed:
        check += f" and not regexp_full_match({v}, '-[0.]*')"
    return f"({check})"


@dataclass(frozen=True)
class Twin:
    ok: Callable[[str], str]  # SQL predicate over the mapped text
    divisions: tuple[str, ...] = ()  # the text's division code(s) must pass division_problem: SQL of the code


def _same(v: str) -> str:
    return v


def _vocab(values: object) -> Twin:
    listed = in_list(values)
    return Twin(ok=lambda v: f"({v} in {listed})")


_TEXT = Twin(ok=lambda v: f"(not regexp_matches({v}, '{_CONTROL_RE}'))")
_USCC = Twin(ok=uscc_shape_ok, divisions=("substr({v}, 3, 6)",))
_DATE = Twin(ok=date_ok)
_YUAN = Twin(ok=lambda v: yuan_ok(v))
_SIGNED_YUAN = Twin(ok=lambda v: yuan_ok(v, signed=True))

TWINS: dict[str, dict[str, Twin]] = {
    "events": {
        "uscc": _USCC,
        "firm_name": _TEXT,
        "event_type": _vocab(vocabulary.EVENT_TYPE_NAMES),
        "action": _vocab(vocabulary.ACTIONS),
        "level": _vocab(vocabulary.LEVELS),
        "effective_date": _DATE,
        "published_date": _DATE,
        "document_ref": _TEXT,
        "program": _TEXT,
        "amount": _YUAN,
        "fiscal_year": Twin(ok=lambda v: f"regexp_full_match({v}, '(19|20)[0-9]{{2}}')"),
        "revenue": _SIGNED_YUAN,
        "profit": _SIGNED_YUAN,
        "wages": _YUAN,
        "rank": Twin(ok=lambda v: f"regexp_full_match({v}, '[1-9][0-9]{{0,5}}')"),
        "related_uscc": _USCC,
    },
    "firms": {
        "uscc": _USCC,
        "firm_name": _TEXT,
        "division_code": Twin(ok=lambda v: f"regexp_full_match({v}, '[0-9]{{6}}')", divisions=("{v}",)),
        "industry_code": Twin(ok=lambda v: f"regexp_full_match({v}, '[A-T][0-9]{{2,4}}')"),
        "registered_date": _DATE,
    },
}


def value(name: str, v: str) -> str:
    """SQL: the typed value of field `name` from its mapped text (where its twin holds)."""
    kind = field_type(name)
    return v if kind == "varchar" else f"cast({v} as {kind})"


def text_of(name: str, typed: str) -> str:
    """SQL: str() of a parsed value, as `fact_key` and the GX frame write it (ISO dates, 2 decimals)."""
    return typed if field_type(name) == "varchar" else f"cast({typed} as varchar)"


# ------------------------------------------------------------------------------------- cross-field rules


def _types_of(*kinds: str) -> str:
    return in_list([t for t, k in vocabulary.EVENT_KINDS.items() if k in kinds] or ["-"])


def _program_broken(event_type: str, program: str) -> str:
    closed = [f"({event_type} = {lit(t)} and ({program} is null or {program} not in {in_list(names)}))"
              for t, names in sorted(vocabulary.PROGRAM_NAMES.items())]
    free = f"({event_type} in {in_list(vocabulary.FREE_TEXT_PROGRAM_TYPES)} and {program} is null)"
    others = sorted(vocabulary.EVENT_TYPE_NAMES - vocabulary.program_types())
    none = f"({event_type} in {in_list(others)} and {program} is not null)"
    return "(" + " or ".join([*closed, free, none]) + ")"


def _ceilings_broken(event_type: str, col: Callable[[str], str], names: tuple[str, ...]) -> list[str]:
    out = []
    if "amount" in names:
        for kind, ceiling in sorted(vocabulary.PLAUSIBLE_YUAN.items()):
            out.append(f"({event_type} in {_types_of(kind)} and {col('amount')} is not null "
                       f"and abs({col('amount')}) > {ceiling})")
    report = vocabulary.PLAUSIBLE_YUAN.get("report")
    if report is not None:
        out += [f"({col(n)} is not null and abs({col(n)}) > {report})" for n in ("revenue", "profit", "wages")
                if n in names]
    return out


def _dates_broken(col: Callable[[str], str], names: tuple[str, ...], today: dt.date) -> list[str]:
    out = [f"({col(n)} is not null and {col(n)} > date '{today}')" for n in ("published_date", "registered_date")
           if n in names]
    if "effective_date" in names:
        ahead = today + dt.timedelta(days=contracts.EFFECTIVE_AHEAD_DAYS)
        out.append(f"({col('effective_date')} is not null and {col('effective_date')} > date '{ahead}')")
    return out


def rules_broken(contract: contracts.Contract, col: Callable[[str], str], today: dt.date,
                 same_place: str | None = None) -> str:
    """SQL: the row's cross-field rules may be broken (then Python checks it and says why); `col(name)`
    gives the typed value of a field, `same_place` the SQL of "the firm's USCC and division agree"."""
    names = contract.field_names
    if contract.name == "events":
        et = col("event_type")
        broken = [
            f"({et} in {_types_of('grant', 'measure')} and {col('amount')} is null)",
            f"({et} in {_types_of('report', 'measure')} and {col('fiscal_year')} is null)",
            f"({et} in {_types_of('relation')} and {col('related_uscc')} is null)",
            _program_broken(et, col("program")),
            *_ceilings_broken(et, col, names),
            *_dates_broken(col, names, today),
        ]
    elif contract.name == "firms":
        broken = [*_dates_broken(col, names, today), f"not coalesce({same_place}, false)"]
    else:  # pragma: no cover - a new contract needs its rules here (tests/test_set_based_ingest.py)
        raise ValueError(f"no SQL twin of the rules of contract {contract.name!r}")
    return "(" + " or ".join(f"coalesce({b}, true)" for b in broken) + ")"


def identity_sql(contract: contracts.Contract, col: Callable[[str], str]) -> str:
    """SQL: a row's identity as `Contract.identity` gives it: [kind, text of each identity field]."""
    if contract.name != "events":
        names = contract.identity({})
        return "[" + ", ".join([lit(",".join(names)), *(text_of(n, col(n)) for n in names)]) + "]"
    cases = []
    for kind, names in sorted(contracts.IDENTITY_BY_KIND.items()):
        cases.append(f"when {col('event_type')} in {_types_of(kind)} then "
                     "[" + ", ".join([lit(kind), *(text_of(n, col(n)) for n in names)]) + "]")
    return "(case " + " ".join(cases) + " end)"
