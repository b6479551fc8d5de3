"""The two input contracts (design.md): field names, which are required, and how each is parsed.

A parser takes the stripped text of one cell and returns the typed value or raises
`FieldError` with a reason a data engineer can act on. Sources of any shape map their
records to these fields before landing, so this is the one place the contract is checked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from registry.core import vocabulary
from registry.core.uscc import UsccError, normalize_uscc


class FieldError(ValueError):
    """One cell does not meet the contract."""


def parse_uscc(text: str) -> str:
    try:
        return normalize_uscc(text)
    except UsccError as err:
        raise FieldError(str(err)) from err


def parse_date(text: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise FieldError(f"'{text}' is not a date in the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise FieldError(f"'{text}' is not a calendar date ({err})") from err


def parse_yuan(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as err:
        raise FieldError(f"'{text}' is not a decimal amount in yuan (no units or separators)") from err
    if not value.is_finite() or value < 0:
        raise FieldError(f"'{text}' must be a non-negative amount in yuan")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise FieldError(f"'{text}' has more than two decimal places (yuan are kept to the fen)")
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


def text(value: str) -> str:
    return value


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[str], Any]
    required: bool = False


@dataclass(frozen=True)
class Contract:
    name: str
    fields: tuple[Field, ...]
    key_fields: tuple[str, ...]  # what makes two rows the same fact (dedup key)
    row_rules: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


def _event_rules(row: dict[str, Any]) -> list[tuple[str, str]]:
    """Cross-field rules of the event contract: (field, reason) for each broken one."""
    problems: list[tuple[str, str]] = []
    kind = vocabulary.EVENT_KINDS[row["event_type"]]
    if kind == "grant" and row["amount"] is None:
        problems.append(("amount", f"a {row['event_type']} event needs the amount actually paid"))
    if kind in {"report", "measure"} and row["fiscal_year"] is None:
        problems.append(("fiscal_year", f"a {row['event_type']} event needs its fiscal_year"))
    if kind == "measure" and row["amount"] is None:
        problems.append(("amount", f"a {row['event_type']} event needs the amount (yuan) it measures"))
    if kind == "relation" and row["related_uscc"] is None:
        problems.append(("related_uscc", f"a {row['event_type']} event needs the related firm's USCC"))
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
)

FIRMS = Contract(
    name="firms",
    fields=(
        Field("uscc", parse_uscc, required=True),
        Field("firm_name", text, required=True),
        Field("division_code", pattern(r"\d{6}", "a 6-digit GB/T 2260 division code"), required=True),
        Field("industry_code", pattern(r"[A-T]\d{2,4}", "a GB/T 4754 industry code like C3461"),
              required=True),
        Field("registered_date", parse_date),
    ),
    key_fields=("uscc", "firm_name", "division_code", "industry_code", "registered_date"),
)

CONTRACTS: dict[str, Contract] = {c.name: c for c in (EVENTS, FIRMS)}
