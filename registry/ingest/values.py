"""Value converters and built-in value maps for source specs.

A converter turns one cell, as a reader gives it (text, or for XLSX a number or a date), into the
text form of the contract (ISO dates, plain decimal yuan, upper-case codes) or raises `RowProblem`
with a reason naming the value. The contract parsers in `registry.core.contracts` then check that text,
so a spec can make a value readable but never bypass the contract.

Kinds (`parse:` of a field in a spec):

| kind      | accepts                                                                 | gives           |
|-----------|-------------------------------------------------------------------------|-----------------|
| `text`    | anything; surrounding white space (also U+3000, NBSP, BOM) is trimmed   | the text        |
| `code`    | full-width or spaced codes: `Ｃ３４６１`, `35 01 02`                      | `C3461`         |
| `date`    | 2026-03-15, 2026/3/15, 2026.3.15, 2026年3月15日, 20260315, Excel dates   | `2026-03-15`    |
| `month`   | 2026年3月, 2026-03, 2026/3, 202603 (and full dates): day per `day:`      | `2026-03-31`    |
| `amount`  | 12.5 / 12.5万元 / 1,250,000元 / ¥12.5万, in the declared `unit`/`units` | `125000.0` yuan |
| `integer` | 2025, Excel's 2025.0                                                    | `2025`          |

Nothing here imports pandas, duckdb or openpyxl.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from registry.core import vocabulary
from registry.ingest.errors import RowProblem

PARSE_KINDS = ("text", "code", "date", "month", "amount", "integer")

# Factor of each unit an amount column may be written in, to yuan.
UNIT_FACTORS: dict[str, Decimal] = {
    "元": Decimal(1),
    "千元": Decimal(1000),
    "万元": Decimal(10000),
    "万": Decimal(10000),
    "亿元": Decimal(100000000),
    "亿": Decimal(100000000),
}

_EDGE = " \t\r\n\u3000\u00a0\ufeff\u200b"
_QUOTES = "\"'“”‘’「」『』"
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def clean(cell: Any) -> str | None:
    """A cell as trimmed text (None when empty). Excel numbers lose a spurious `.0`."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        text = str(int(cell)) if cell.is_integer() else format(cell, ".15g")
    elif isinstance(cell, dt.datetime):
        text = cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat(sep=" ")
    elif isinstance(cell, dt.date):
        text = cell.isoformat()
    else:
        text = str(cell)
    text = text.strip(_EDGE)
    return text or None


def norm_key(text: str) -> str:
    """How headers and map keys are compared: NFKC, no white space, no quote marks, lower case.

    So `拨付金额\\n（万元）` matches `拨付金额(万元)` and `专精特新"小巨人"企业` matches `专精特新“小巨人”企业`.
    """
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in _QUOTES).lower()


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip(_EDGE)


# ------------------------------------------------------------------------------------------ converters


def to_code(cell: Any) -> str | None:
    text = clean(cell)
    return None if text is None else re.sub(r"\s+", "", _nfkc(text)).upper()


def to_integer(cell: Any) -> str | None:
    text = clean(cell)
    if text is None:
        return None
    folded = _nfkc(text)
    match = re.fullmatch(r"(\d+)(?:\.0+)?", folded)
    if not match:
        raise RowProblem("", f"'{text}' is not a whole number")
    return str(int(match.group(1)))


_DATE_PATTERNS = (
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"),
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_MIDNIGHT = r"(?:[ T]0?0:00(?::00(?:\.0+)?)?)?"
_MONTH_PATTERNS = (
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:份)?"),
    re.compile(r"(\d{4})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})(\d{2})"),
)


def _excel_serial(value: float) -> dt.date:
    if not 1 <= value < 2958466:
        raise RowProblem("", f"{value!r} is not an Excel date serial number")
    return _EXCEL_EPOCH + dt.timedelta(days=int(value))


def _calendar_date(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as err:
        raise RowProblem("", f"'{text}' is not a calendar date ({err})") from err


def parse_any_date(cell: Any) -> dt.date | None:
    """A date cell in any of the forms real lists use (see the module table); None when empty."""
    if cell is None:
        return None
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return _excel_serial(float(cell))
    text = clean(cell)
    if text is None:
        return None
    folded = _nfkc(text)
    for pattern in _DATE_PATTERNS:
        match = re.fullmatch(pattern.pattern + _MIDNIGHT, folded)
        if match:
            groups = [g for g in match.groups() if g not in {"-", "/", "."}]
            return _calendar_date(int(groups[0]), int(groups[1]), int(groups[2]), text)
    raise RowProblem(
        "", f"'{text}' is not a date (expected e.g. 2026-03-15, 2026/3/15, 2026.3.15 or 2026年3月15日)"
    )


def to_date(cell: Any) -> str | None:
    value = parse_any_date(cell)
    return None if value is None else value.isoformat()


def to_month(cell: Any, day: str) -> str | None:
    """A year-month (or a full date, whose month is taken) as the first or last day of that month."""
    if cell is None or clean(cell) is None:
        return None
    text = clean(cell) or ""
    folded = _nfkc(text)
    year_month: tuple[int, int] | None = None
    for pattern in _MONTH_PATTERNS:
        match = pattern.fullmatch(folded)
        if match:
            year_month = (int(match.group(1)), int(match.group(2)))
            break
    if year_month is None:
        try:
            full = parse_any_date(cell)
        except RowProblem as err:
            raise RowProblem("", f"'{text}' is not a month (expected e.g. 2026年3月 or 2026-03)") from err
        assert full is not None
        year_month = (full.year, full.month)
    year, month = year_month
    if not 1 <= month <= 12:
        raise RowProblem("", f"'{text}' is not a month (month {month})")
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, last if day == "last" else 1).isoformat()


def to_amount(cell: Any, unit: str, units: tuple[str, ...], thousands: tuple[str, ...]) -> str | None:
    """An amount in yuan, exactly (Decimal): bare numbers are in `unit`; a suffix must be in `units`."""
    if cell is None:
        return None
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        number, suffix = Decimal(clean(cell) or "0"), ""
        text = clean(cell) or ""
    else:
        text = clean(cell) or ""
        if not text:
            return None
        folded = re.sub(r"\s+", "", _nfkc(text)).removeprefix("¥").removeprefix("RMB")
        match = re.fullmatch(r"(-?[\d.,，]+)(\D*)", folded)
        if not match:
            raise RowProblem("", f"'{text}' is not an amount (a number, optionally with a unit: {', '.join(units)})")
        digits, suffix = match.group(1), match.group(2)
        digits = _strip_thousands(digits, thousands, text)
        try:
            number = Decimal(digits)
        except InvalidOperation as err:
            raise RowProblem("", f"'{text}' is not an amount") from err
    if suffix and suffix not in units:
        declared = ", ".join(units)
        raise RowProblem("", f"'{text}': unit '{suffix}' is not one this source declares ({declared})")
    factor = UNIT_FACTORS[suffix or unit]
    return format(number * factor, "f")


def _strip_thousands(digits: str, thousands: tuple[str, ...], text: str) -> str:
    separators = [sep for sep in (",", "，") if sep in digits]
    if not separators:
        return digits
    undeclared = [sep for sep in separators if sep not in thousands]
    if undeclared:
        raise RowProblem("", f"'{text}' contains '{undeclared[0]}', which this source does not declare as a "
                             "thousands separator (add it to `thousands:` in the spec)")
    plain = digits
    for sep in separators:
        plain = plain.replace(sep, ",")
    if not re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", plain):
        raise RowProblem("", f"'{text}' has misplaced thousands separators")
    return plain.replace(",", "")


def convert(kind: str, cell: Any, *, unit: str | None = None, units: tuple[str, ...] = (),
            thousands: tuple[str, ...] = (), day: str = "last") -> str | None:
    """Apply converter `kind` (one of PARSE_KINDS) to a cell."""
    if kind == "text":
        return clean(cell)
    if kind == "code":
        return to_code(cell)
    if kind == "date":
        return to_date(cell)
    if kind == "month":
        return to_month(cell, day)
    if kind == "amount":
        assert unit is not None, "the spec loader requires a unit for amount fields"
        return to_amount(cell, unit, units or (unit,), thousands)
    if kind == "integer":
        return to_integer(cell)
    raise ValueError(f"unknown converter {kind!r}")


# ------------------------------------------------------------------------------------ built-in value maps


def _with_identity(terms: dict[str, str], names: list[str]) -> dict[str, str]:
    table = {name: name for name in names}
    table.update(terms)
    return table


LEVEL_TERMS = {
    "国家级": "national", "国家": "national", "部级": "national", "工信部": "national",
    "省级": "provincial", "省": "provincial",
    "市级": "municipal", "市": "municipal",
}
ACTION_TERMS = {
    "认定": "granted", "新认定": "granted", "新获评": "granted", "入选": "granted", "首次认定": "granted",
    "重新认定": "renewed", "复核通过": "renewed", "复审": "renewed",
    "撤销": "revoked", "取消": "revoked", "撤销资格": "revoked", "取消资格": "revoked",
    "到期": "expired", "期满": "expired", "有效期届满": "expired",
    "撤回": "retracted", "撤回（误报更正）": "retracted", "更正撤回": "retracted",
}
EVENT_TYPE_ALIASES = {
    "专精特新中小企业": "srdi_provincial", "专精特新": "srdi_provincial",
    "专精特新小巨人企业": "little_giant", "小巨人": "little_giant", "国家级专精特新小巨人企业": "little_giant",
    "高新技术企业": "hitech", "高企": "hitech",
    "单项冠军": "single_champion", "制造业单项冠军": "single_champion",
    "规上企业": "scale_up", "升规纳统": "scale_up",
}

BUILTIN_MAPS: dict[str, dict[str, str]] = {
    "levels": _with_identity(LEVEL_TERMS, list(vocabulary.LEVELS)),
    "actions": _with_identity(
        {**{term: name for name, term in vocabulary.ACTIONS.items()}, **ACTION_TERMS}, list(vocabulary.ACTIONS)
    ),
    "event_types": _with_identity(
        {**{t.term: t.name for t in vocabulary.EVENT_TYPES}, **EVENT_TYPE_ALIASES},
        sorted(vocabulary.EVENT_TYPE_NAMES),
    ),
}
"""Maps every spec may name (`map: levels`): Chinese terms as published -> contract values."""
