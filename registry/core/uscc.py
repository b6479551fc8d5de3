"""统一社会信用代码 (USCC, GB 32100-2015): normalise, validate and generate.

Layout of the 18 characters (1-based positions):

====== ==================================================================
1      登记管理部门码 (registration authority, 9 = 市场监管/工商)
2      机构类别码 (organisation category, 1 = 企业)
3-8    登记管理机关行政区划码 (GB/T 2260 division code, 6 digits)
9-16   主体标识码 body: the GB 11714 organisation code without its check
17     GB 11714 check character of positions 9-16 (``0``-``9`` or ``X``)
18     GB 32100 check character of positions 1-17
====== ==================================================================

Every character comes from the 31-character set ``0123456789ABCDEFGHJKLMNPQRTUWXY``
(no I, O, Z, S, V), whose values are 0..30 in that order.

* Position 18: weights ``3**(i-1) mod 31`` for positions 1..17; ``C18 = 31 - (sum mod 31)``,
  where 31 maps to 0; the value is mapped back through the 31-character set.
* Position 17 (GB 11714): the 8 body characters take values 0-9 for digits and A=10 ... Z=35
  (the plain alphabet, every letter); weights ``3 7 9 10 5 8 4 2``; ``C9 = 11 - (sum mod 11)``,
  where 10 is written ``X`` and 11 is written ``0``.

Positions 3-8 are checked against GB/T 2260 by :func:`division_problem` (python-stdnum's table of
division codes with the years each was in use): a code that never named a division, or that was
retired before USCCs were first issued (2015), cannot be in a real USCC. :func:`normalize_uscc`
checks the structure only (any six digits), so generators and tests may use any code.

Use :func:`normalize_uscc` on anything that came from outside (a CSV cell, a form field): it
turns full-width characters into ASCII, trims surrounding white space and upper-cases, then
validates and either returns the canonical code or raises :class:`UsccError` saying what to fix.
Use :func:`is_valid_uscc` to test a value that should already be canonical.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

__all__ = [
    "CHARSET",
    "Division",
    "UsccError",
    "check_char_17",
    "check_char_18",
    "division",
    "division_code_of",
    "division_problem",
    "is_valid_uscc",
    "make_uscc",
    "normalize_uscc",
    "same_place",
]

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters a USCC may contain, in value order (0..30)."""

_VALUE_31: dict[str, int] = {ch: i for i, ch in enumerate(CHARSET)}
WEIGHTS_18: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
"""Weights of positions 1..17 for the 18th check character: 1, 3, 9, 27, 19, 26, 16, 17, 20, ..."""

_BODY_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUE_36: dict[str, int] = {ch: i for i, ch in enumerate(_BODY_ALPHABET)}
WEIGHTS_17: tuple[int, ...] = (3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11714 weights of the 8 organisation-code body characters (positions 9..16)."""

USCC_LENGTH = 18
# Characters trimmed from both ends besides ordinary white space (str.strip handles U+3000 and
# NBSP): byte-order marks and zero-width spaces that spreadsheets and web forms leave behind.
_EDGE_JUNK = "\ufeff\u200b\u200c\u200d\u2060"
_EDGE_RE = re.compile(rf"\A[\s{_EDGE_JUNK}]+|[\s{_EDGE_JUNK}]+\Z")

# make_uscc: bodies look like the "MA" + 6 characters that registries issue today; the serial
# is spread over the 31**6 possible tails by an affine permutation so neighbours differ visibly.
_TAIL_SPACE = 31**6
_TAIL_MULTIPLIER = 387_420_489  # 3**18, coprime with 31**6, so the map is a bijection
_TAIL_OFFSET = 123_456_789


class UsccError(ValueError):
    """A USCC that cannot be accepted.

    Attributes:
        code: short machine-readable reason: ``empty``, ``type``, ``whitespace``, ``charset``,
            ``length``, ``division``, ``check_17`` or ``check_18``.
        value: the text that was examined (after normalisation, where normalisation ran).
        position: 1-based position of the offending character, when there is one.
        expected: the character that position should hold (check characters), when known.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        value: str = "",
        position: int | None = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.value = value
        self.position = position
        self.expected = expected

    def __reduce__(self):  # keep pickling (multiprocessing, Airflow XCom) working
        return (
            _rebuild_error,
            (self.code, str(self), self.value, self.position, self.expected),
        )


def _rebuild_error(code: str, message: str, value: str, position: int | None, expected: str | None) -> UsccError:
    return UsccError(code, message, value=value, position=position, expected=expected)


def _describe(ch: str) -> str:
    """A character as a person can identify it: 'I' (U+0049 LATIN CAPITAL LETTER I)."""
    name = unicodedata.name(ch, "unnamed character")
    return f"{ch!r} (U+{ord(ch):04X} {name})"


_CONFUSABLE_HINT = {"I": "1", "O": "0", "Z": "2", "S": "5", "V": "U"}


def check_char_18(first17: str) -> str:
    """The GB 32100 check character (position 18) for the first 17 characters of a USCC.

    Raises:
        UsccError: ``length`` unless exactly 17 characters, ``charset`` for a character outside
            :data:`CHARSET` (the input must already be upper-case ASCII).
    """
    _require_length(first17, 17, "the first 17 characters of a USCC")
    _require_charset(first17, CHARSET, "a USCC")
    total = sum(_VALUE_31[ch] * w for ch, w in zip(first17, WEIGHTS_18, strict=True))
    value = 31 - total % 31
    return CHARSET[0 if value == 31 else value]


def check_char_17(org_body8: str) -> str:
    """The GB 11714 check character of an 8-character organisation-code body (USCC positions 9-16).

    Digits count 0-9 and letters A=10 ... Z=35. The result is ``0``-``9`` or ``X``.

    Raises:
        UsccError: ``length`` unless exactly 8 characters, ``charset`` for anything other than
            ASCII digits and upper-case letters.
    """
    _require_length(org_body8, 8, "an organisation-code body")
    _require_charset(org_body8, _BODY_ALPHABET, "an organisation-code body")
    total = sum(_VALUE_36[ch] * w for ch, w in zip(org_body8, WEIGHTS_17, strict=True))
    value = 11 - total % 11
    if value == 10:
        return "X"
    if value == 11:
        return "0"
    return str(value)


def is_valid_uscc(code: str) -> bool:
    """True if ``code`` is already a canonical, valid USCC (no trimming, no case folding)."""
    if not isinstance(code, str):
        return False
    try:
        _validate(code)
    except UsccError:
        return False
    return True


def normalize_uscc(raw: str) -> str:
    """Return the canonical form of a USCC typed or exported by a person, or say what is wrong.

    Steps: NFKC normalisation (full-width ``９１３５…`` becomes ``9135…``), trimming of
    leading/trailing white space (including the ideographic space U+3000, NBSP, BOM and
    zero-width spaces), upper-casing; then validation of the result. White space *inside* the
    code is never removed silently: ``"9135 0200…"`` is rejected with code ``whitespace``.

    Raises:
        UsccError: see :class:`UsccError` for the reason codes.
    """
    if raw is None:
        raise UsccError("empty", "USCC is missing (empty value)")
    if not isinstance(raw, str):
        raise UsccError("type", f"USCC must be text, got {type(raw).__name__} {raw!r}; read the column as text")
    text = unicodedata.normalize("NFKC", raw)
    text = _EDGE_RE.sub("", text).upper()
    if not text:
        raise UsccError("empty", f"USCC is empty (input was {raw!r})", value=text)
    _validate(text)
    return text


def division_code_of(code: str) -> str:
    """The 6-digit administrative division code (positions 3-8) of a valid canonical USCC."""
    _validate(code)
    return code[2:8]


def make_uscc(
    division_code: str,
    serial: int,
    registration_dept: str = "9",
    org_category: str = "1",
) -> str:
    """A valid USCC for ``division_code``, the same one every time for the same arguments.

    The body (positions 9-16) is ``MA`` followed by six characters from :data:`CHARSET` derived
    from ``serial`` by a bijection, so distinct serials (0 <= serial < 31**6) give distinct codes
    within one division. Position 17 is computed by GB 11714 and position 18 by GB 32100.

    Raises:
        ValueError: for a division code that is not 6 ASCII digits, a serial out of range, or a
            registration/category character outside :data:`CHARSET`.
    """
    if not (
        isinstance(division_code, str)
        and len(division_code) == 6
        and division_code.isascii()
        and division_code.isdigit()
    ):
        raise ValueError(f"division_code must be 6 ASCII digits (GB/T 2260), got {division_code!r}")
    if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial < _TAIL_SPACE:
        raise ValueError(f"serial must be an int in 0..{_TAIL_SPACE - 1}, got {serial!r}")
    for label, ch in (("registration_dept", registration_dept), ("org_category", org_category)):
        if not (isinstance(ch, str) and len(ch) == 1 and ch in CHARSET):
            raise ValueError(f"{label} must be one character of {CHARSET}, got {ch!r}")
    tail_value = (serial * _TAIL_MULTIPLIER + _TAIL_OFFSET) % _TAIL_SPACE
    tail = ""
    for _ in range(6):
        tail_value, digit = divmod(tail_value, 31)
        tail = CHARSET[digit] + tail
    body = "MA" + tail
    first17 = registration_dept + org_category + division_code + body + check_char_17(body)
    return first17 + check_char_18(first17)


# --------------------------------------------------------------------------- GB/T 2260 divisions

USCC_FIRST_YEAR = 2015  # GB 32100-2015: no USCC was issued under a division code retired before then
_SPELL = re.compile(r"(?:\[(\d{4})-(\d{4})?\])?([^,\[]+)")
_MUNICIPALITIES = frozenset({"11", "12", "31", "50"})  # 直辖市: the province is the city


@dataclass(frozen=True)
class Division:
    """One GB/T 2260 code: its province and its (latest) name, e.g. 350102 福建省 鼓楼区."""

    code: str
    province: str
    name: str

    def __str__(self) -> str:
        return f"{self.code} {self.province}{'' if self.name == self.province else self.name}"


@cache
def _lookup(code: str) -> tuple[str, list[tuple[int | None, int | None, str]]] | None:
    from stdnum import numdb  # python-stdnum's GB/T 2260 table (cn/loc), read once

    info = numdb.get("cn/loc").info(code)
    if len(info) != 2 or not info[1][1].get("county"):
        return None
    province = info[0][1].get("province", "")
    spells = [(int(a) if a else None, int(b) if b else None, name.strip())
              for a, b, name in _SPELL.findall(info[1][1]["county"])]
    return province, spells


def division(code: str) -> Division | None:
    """The GB/T 2260 division `code` names, when it is real and was in use in 2015 or later."""
    if not (isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    found = _lookup(code)
    if found is None:
        return None
    province, spells = found
    current = [name for _start, end, name in spells if end is None or end >= USCC_FIRST_YEAR]
    return Division(code, province, current[-1]) if current else None


def division_problem(code: str) -> str | None:
    """Why `code` cannot be a division code of today's registrations (None when it can)."""
    if division(code) is not None:
        return None
    found = _lookup(code) if len(code) == 6 and code.isdigit() else None
    if found is not None:
        last = max((end or 0) for _s, end, _n in found[1])
        return f"{code} is a GB/T 2260 code retired in {last}, before USCCs were issued ({USCC_FIRST_YEAR})"
    return f"{code} is not a GB/T 2260 administrative division code"


def same_place(uscc_division: str, firm_division: str) -> bool:
    """Do a USCC's division (positions 3-8) and a firm's division_code agree? They agree within one
    city (the first four digits; a 直辖市 is one city), and a code issued at province level (xx0000)
    agrees with every division of its province: registration authorities issue codes at every
    level, and a firm that moved district keeps its code."""
    if uscc_division[:2] != firm_division[:2]:
        return False
    if uscc_division[:2] in _MUNICIPALITIES or uscc_division[2:] == "0000":
        return True
    return uscc_division[:4] == firm_division[:4]


# --------------------------------------------------------------------------- internals


def _require_length(text: str, length: int, what: str) -> None:
    if not isinstance(text, str):
        raise UsccError("type", f"{what} must be text, got {type(text).__name__}")
    if len(text) != length:
        raise UsccError(
            "length",
            f"{what} must have {length} characters, {text!r} has {len(text)}",
            value=text,
        )


def _require_charset(text: str, allowed: str, what: str) -> None:
    for pos, ch in enumerate(text, start=1):
        if ch not in allowed:
            hint = ""
            if ch in _CONFUSABLE_HINT and allowed is CHARSET:
                hint = f" (USCCs never use {ch!r}; did you mean {_CONFUSABLE_HINT[ch]!r}?)"
            elif ch.isascii() and ch.isalpha() and ch.islower():
                hint = " (use upper case)"
            raise UsccError(
                "charset",
                f"{what} may only contain {allowed}; position {pos} of {text!r} is {_describe(ch)}{hint}",
                value=text,
                position=pos,
            )


def _validate(code: str) -> None:
    """Validate an already-normalised candidate; raise UsccError for the first problem found."""
    if not isinstance(code, str):
        raise UsccError("type", f"USCC must be text, got {type(code).__name__}")
    if not code:
        raise UsccError("empty", "USCC is empty", value=code)
    for pos, ch in enumerate(code, start=1):
        if ch.isspace():
            raise UsccError(
                "whitespace",
                f"USCC {code!r} has white space {_describe(ch)} at position {pos}; "
                "remove it (white space inside a code is never dropped automatically)",
                value=code,
                position=pos,
            )
    _require_charset(code, CHARSET, "a USCC")
    if len(code) != USCC_LENGTH:
        raise UsccError(
            "length",
            f"USCC must have {USCC_LENGTH} characters, {code!r} has {len(code)}",
            value=code,
        )
    division = code[2:8]
    for pos, ch in enumerate(division, start=3):
        if not ch.isdigit():
            raise UsccError(
                "division",
                f"positions 3-8 of USCC {code!r} are the division code and must be digits; position {pos} is {ch!r}",
                value=code,
                position=pos,
            )
    body, c17 = code[8:16], code[16]
    expected17 = check_char_17(body)
    if c17 != expected17:
        raise UsccError(
            "check_17",
            f"USCC {code!r}: organisation-code check character at position 17 is {c17!r}, but "
            f"positions 9-16 {body!r} give {expected17!r} (GB 11714); one of positions 9-17 is "
            "probably mistyped",
            value=code,
            position=17,
            expected=expected17,
        )
    expected18 = check_char_18(code[:17])
    if code[17] != expected18:
        raise UsccError(
            "check_18",
            f"USCC {code!r}: check character at position 18 is {code[17]!r}, but positions 1-17 "
            f"give {expected18!r} (GB 32100); one of the 18 characters is probably mistyped",
            value=code,
            position=18,
            expected=expected18,
        )
