"""The two input contracts (design.md): field names, which are required, how each is parsed, and
what makes two rows the same fact.

A parser takes the stripped text of one cell and returns the typed value or raises
`FieldError` with a reason a data engineer can act on. Sources of any shape map their
records to these fields before landing, so this is the one place the contract is checked.

What every value can be (checked row by row, before anything lands):

* USCCs: GB 32100 structure and check characters, and positions 3-8 a real GB/T 2260 division;
* dates: a calendar date from 1949-10-01 to 2099-12-31; and by the clock (`settings.today()`): a
  `published_date` or `registered_date` is not in the future, an `effective_date` at most a year ahead;
* amounts: plain decimal yuan (no exponent, no separators, at most two decimals) that fit the
  DECIMAL(18, 2) columns, and at most the plausible ceiling of the event kind
  (`vocabulary.PLAUSIBLE_YUAN`);
* texts: no control characters (C0/C1, also tab and line breaks), no lone surrogates, no bidi
  overrides: such a row is quarantined, never normalised, because a line break or control
  character inside a name is corruption (a stray quote, a bad export), not a name;
* programs: the closed vocabulary of `vocabulary.PROGRAMS` for the types that carry one.

A fact's identity (`Contract.identity`, per event kind) is what says "this is the same fact": a
row with the identity of a fact already landed (or earlier in the same file) but another value is a
conflict, never a second fact. A correction is a `retracted` row plus the new fact.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from registry.core import settings, vocabulary
from registry.core.uscc import UsccError, division, division_problem, normalize_uscc, same_place

EARLIEST_DATE = dt.date(1949, 10, 1)  # no registry record is older than the People's Republic
LATEST_DATE = dt.date(2099, 12, 31)
EFFECTIVE_AHEAD_DAYS = 366  # a qualification announced more than a year ahead is a typo
DECIMAL_18_2_MAX = Decimal("9999999999999999.99")  # the raw tables' DECIMAL(18, 2)
_PLAIN_DECIMAL = re.compile(r"(\d+(\.\d*)?|\.\d+)")
_SCIENTIFIC = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+")
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_CONTROL_NAMES = {"\x00": "NULL", "\t": "CHARACTER TABULATION", "\n": "LINE FEED", "\x0b": "LINE TABULATION",
                  "\x0c": "FORM FEED", "\r": "CARRIAGE RETURN", "\x1b": "ESCAPE", "\x7f": "DELETE",
                  "\x85": "NEXT LINE"}


class FieldError(ValueError):
    """One cell does not meet the contract."""


def parse_uscc(text: str) -> str:
    try:
        code = normalize_uscc(text)
    except UsccError as err:
        raise FieldError(str(err)) from err
    problem = division_problem(code[2:8])
    if problem is not None:
        raise FieldError(f"positions 3-8 of USCC {code!r}: {problem} (a mistyped or invented code)")
    return code


def parse_date(text: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise FieldError(f"'{text}' is not a date in the form YYYY-MM-DD")
    try:
        value = dt.date.fromisoformat(text)
    except ValueError as err:
        raise FieldError(f"'{text}' is not a calendar date ({err})") from err
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise FieldError(f"'{text}' is outside the dates a record can carry ({EARLIEST_DATE} to {LATEST_DATE}): "
                         "a placeholder or a typo?")
    return value


def parse_yuan(text: str) -> Decimal:
    if _SCIENTIFIC.fullmatch(text):
        raise FieldError(f"'{text}' is in scientific notation: write the amount in yuan as a plain decimal "
                         "(a spreadsheet turned a long number into an exponent?)")
    try:
        value = Decimal(text)
    except InvalidOperation as err:
        raise FieldError(f"'{text}' is not a decimal amount in yuan (no units or separators)") from err
    if not value.is_finite() or value < 0:
        raise FieldError(f"'{text}' must be a non-negative amount in yuan")
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise FieldError(f"'{text}' is not a decimal amount in yuan (no units or separators)")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise FieldError(f"'{text}' has more than two decimal places (yuan are kept to the fen)")
    if value > DECIMAL_18_2_MAX:
        raise FieldError(f"'{text}' does not fit an amount column (DECIMAL(18, 2): at most {DECIMAL_18_2_MAX} "
                         "yuan)")
    return value.quantize(Decimal("0.01"))


def parse_signed_yuan(text: str) -> Decimal:
    """Profit can be negative; otherwise as `parse_yuan`."""
    negative = text.startswith("-")
    value = parse_yuan(text[1:] if negative else text)
    return -value if negative else value


def parse_year(text: str) -> int:
    if not re.fullmatch(r"(19|20)\d{2}", text):
        raise FieldError(f"'{text}' is not a four-digit year")
    return int(text)


def parse_rank(text: str) -> int:
    if not re.fullmatch(r"[1-9]\d{0,5}", text):
        raise FieldError(f"'{text}' is not a rank (a whole number from 1)")
    return int(text)


def one_of(allowed: frozenset[str] | dict[str, str], what: str) -> Callable[[str], str]:
    names = sorted(allowed)

    def parse(text: str) -> str:
        if text not in allowed:
            raise FieldError(f"unknown {what} '{text}'; expected one of: {', '.join(names)}")
        return text

    return parse


def pattern(regex: str, what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not re.fullmatch(regex, text):
            raise FieldError(f"'{text}' is not {what}")
        return text

    return parse


def text_problem(value: str) -> str | None:
    """Why `value` cannot be a text of the contract (None when it can): control characters (C0, C1,
    DEL; tab and line breaks too), lone surrogates, noncharacters, bidirectional overrides."""
    for position, ch in enumerate(value, start=1):
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or ch in _BIDI or ch in "\ufffe\uffff":
            name = _CONTROL_NAMES.get(ch) or unicodedata.name(ch, "a control character" if category == "Cc" else
                                                              "a lone surrogate")
            return (f"contains U+{ord(ch):04X} ({name}) at position {position}: control characters are never part "
                    "of a name or a 文号 (a stray quote, a line break inside a cell, a damaged export); correct the "
                    "source")
    return None


def text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise FieldError(f"{value!r} {problem}")
    return value


def division_code(value: str) -> str:
    code = pattern(r"\d{6}", "a 6-digit GB/T 2260 division code")(value)
    problem = division_problem(code)
    if problem is not None:
        raise FieldError(problem)
    return code


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[str], Any]
    required: bool = False


RowRules = Callable[..., list[tuple[str, str]]]  # (row, today=None) -> [(field, reason)]


@dataclass(frozen=True)
class Contract:
    name: str
    fields: tuple[Field, ...]
    key_fields: tuple[str, ...]  # a row's whole fact: equal key fields = the same fact (a duplicate)
    row_rules: RowRules | None = None
    identity_fields: Callable[[dict[str, Any]], tuple[str, ...]] | None = None  # per row (event kind)

    def identity(self, row: dict[str, Any]) -> tuple[str, ...]:
        """The fields that say "this is the same fact" for `row`: equal identity but other key
        fields is a conflict (design.md: "A fact's identity is declared per event kind")."""
        return self.key_fields if self.identity_fields is None else self.identity_fields(row)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


# What identifies a fact, per event kind; the other key fields are its value. A row whose identity
# matches a fact already landed but whose value differs is a conflict (quarantined), never a second fact.
IDENTITY_BY_KIND: dict[str, tuple[str, ...]] = {
    # a designation is told apart by its level, date, 文号 and program (ranking list, product);
    # its value is the rank (a second rank on the same list, same day, is a conflict)
    "designation": ("uscc", "event_type", "action", "level", "effective_date", "document_ref", "program"),
    # 升规 on a date: the level or 文号 of the same status change cannot differ
    "status": ("uscc", "event_type", "action", "effective_date"),
    # a payment: firm, programme, date and 文号; its value is the amount (and level)
    "grant": ("uscc", "event_type", "action", "program", "effective_date", "document_ref"),
    # one report per firm and fiscal year: revenue, profit, wages, grade and date are its value
    "report": ("uscc", "event_type", "action", "fiscal_year"),
    # an investment, loan or R&D figure: firm, year, date and 文号 (project or loan); value: the amount
    "measure": ("uscc", "event_type", "action", "fiscal_year", "effective_date", "document_ref", "program"),
    # a link to another firm for a year
    "relation": ("uscc", "event_type", "action", "related_uscc", "fiscal_year", "effective_date"),
}


def _event_identity(row: dict[str, Any]) -> tuple[str, ...]:
    return IDENTITY_BY_KIND[vocabulary.EVENT_KINDS[row["event_type"]]]


def _ceiling(kind: str, event_type: str, name: str, value: Any) -> tuple[str, str] | None:
    ceiling = vocabulary.PLAUSIBLE_YUAN.get(kind)
    if ceiling is None or value is None or abs(value) <= ceiling:
        return None
    return (name, f"{name} {value} yuan is implausible for a {event_type} event (above {ceiling:,} yuan, the "
                  f"ceiling of a {kind}): a unit applied twice, or a typo? correct the source")


def _program_rule(event_type: str, program: str | None) -> tuple[str, str] | None:
    closed = vocabulary.PROGRAM_NAMES.get(event_type)
    if closed is not None:
        known = vocabulary.known_programs(event_type)
        if program is None:
            return ("program", f"a {event_type} event needs its program, one of: {known}")
        if program not in closed:
            return ("program", f"unknown program '{program}' for {event_type}; the known programs are: {known} "
                               "(registry/core/vocabulary.py: add a new programme there and to the catalog)")
        return None
    if event_type in vocabulary.FREE_TEXT_PROGRAM_TYPES:
        if program is None and event_type in vocabulary.PROGRAM_REQUIRED_TYPES:
            return ("program", f"a {event_type} event needs its program (the product it is about)")
        return None
    if program is not None:
        carriers = ", ".join(sorted(vocabulary.program_types()))
        return ("program", f"a {event_type} event takes no program, got '{program}' (programs belong to {carriers})")
    return None


def _date_rules(row: dict[str, Any], today: dt.date) -> list[tuple[str, str]]:
    problems = []
    for name in ("published_date", "registered_date"):
        value = row.get(name)
        if value is not None and value > today:
            problems.append((name, f"{name} {value} is in the future (today is {today}): nothing can have been "
                                   "published or registered yet; a typo? (the clock: $REGISTRY_TODAY or the system)"))
    value = row.get("effective_date")
    if value is not None and value > today + dt.timedelta(days=EFFECTIVE_AHEAD_DAYS):
        problems.append(("effective_date", f"effective_date {value} is more than {EFFECTIVE_AHEAD_DAYS} days after "
                                           f"today ({today}): a typo?"))
    return problems


def _event_rules(row: dict[str, Any], today: dt.date | None = None) -> list[tuple[str, str]]:
    """Cross-field rules of the event contract: (field, reason) for each broken one."""
    problems: list[tuple[str, str]] = []
    event_type = row["event_type"]
    kind = vocabulary.EVENT_KINDS[event_type]
    if kind == "grant" and row["amount"] is None:
        problems.append(("amount", f"a {row['event_type']} event needs the amount actually paid"))
    if kind in {"report", "measure"} and row["fiscal_year"] is None:
        problems.append(("fiscal_year", f"a {row['event_type']} event needs its fiscal_year"))
    if kind == "measure" and row["amount"] is None:
        problems.append(("amount", f"a {row['event_type']} event needs the amount (yuan) it measures"))
    if kind == "relation" and row["related_uscc"] is None:
        problems.append(("related_uscc", f"a {row['event_type']} event needs the related firm's USCC"))
    program = _program_rule(event_type, row.get("program"))
    if program is not None:
        problems.append(program)
    for name in ("amount", "revenue", "profit", "wages"):
        implausible = _ceiling(kind if name == "amount" else "report", event_type, name, row.get(name))
        if implausible is not None:
            problems.append(implausible)
    problems += _date_rules(row, today or settings.today())
    return problems


def _firm_rules(row: dict[str, Any], today: dt.date | None = None) -> list[tuple[str, str]]:
    """The firm's USCC (positions 3-8) and its division_code must name the same place."""
    problems = _date_rules(row, today or settings.today())
    region, where = row["uscc"][2:8], row["division_code"]
    if not same_place(region, where):
        problems.append(("division_code", f"division_code {division(where) or where} and the USCC's division "
                                          f"{division(region) or region} (positions 3-8) name different places: "
                                          "one of the two is wrong; correct the source"))
    return problems


EVENTS = Contract(
    name="events",
    fields=(
        Field("uscc", parse_uscc, required=True),
        Field("firm_name", text),
        Field("event_type", one_of(vocabulary.EVENT_TYPE_NAMES, "event_type"), required=True),
        Field("action", one_of(vocabulary.ACTIONS, "action"), required=True),
        Field("level", one_of(vocabulary.LEVELS, "level")),
        Field("effective_date", parse_date, required=True),
        Field("published_date", parse_date),
        Field("document_ref", text),
        Field("program", text),
        Field("amount", parse_yuan),
        Field("fiscal_year", parse_year),
        Field("revenue", parse_signed_yuan),
        Field("profit", parse_signed_yuan),
        Field("wages", parse_yuan),
        Field("rank", parse_rank),
        Field("related_uscc", parse_uscc),
    ),
    key_fields=(
        "uscc", "event_type", "action", "level", "effective_date", "document_ref",
        "program", "amount", "fiscal_year", "revenue", "profit", "wages", "rank", "related_uscc",
    ),
    row_rules=_event_rules,
    identity_fields=_event_identity,
)

FIRMS = Contract(
    name="firms",
    fields=(
        Field("uscc", parse_uscc, required=True),
        Field("firm_name", text, required=True),
        Field("division_code", division_code, required=True),
        Field("industry_code", pattern(r"[A-T]\d{2,4}", "a GB/T 4754 industry code like C3461"),
              required=True),
        Field("registered_date", parse_date),
    ),
    key_fields=("uscc", "firm_name", "division_code", "industry_code", "registered_date"),
    row_rules=_firm_rules,
    identity_fields=lambda row: ("uscc",),  # one master record per firm
)

CONTRACTS: dict[str, Contract] = {c.name: c for c in (EVENTS, FIRMS)}
