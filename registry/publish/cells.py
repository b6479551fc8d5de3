"""Any text the ledger can hold, made safe for the files people open.

- XLSX (XML 1.0) cannot hold C0 control characters other than tab, LF and CR, nor U+FFFE/U+FFFF
  or lone surrogates: openpyxl raises on them, Excel calls such a file corrupt. `xml_text` shows a
  C0 control as its Unicode control picture (U+240B ␋ for \\x0b), visibly and one-to-one, and the
  others as U+FFFD. The ledger keeps the original; only the cell shows the picture.
- CSV (OWASP "CSV injection"): a text cell starting with `=`, `+`, `-`, `@`, tab or CR is read by
  Excel/LibreOffice as a formula; `csv_text` prefixes such a cell with a single quote. Numeric
  columns (序号, amounts) are told apart by column, never by content: they are declared numeric in
  the column specs of registry.publish.exports, formatted from int/Decimal values only, and never
  neutralised, so a reversal stays `-200000.00`.
- `display_width`: the width of a text in columns of a fixed-width font, East Asian wide and
  full-width characters counting double (for column widths and chart margins).
"""

from __future__ import annotations

import html
import re
import unicodedata

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    return chr(0x2400 + code) if code < 0x20 else "\ufffd"


def xml_text(text: str) -> str:
    """`text` with every character XML 1.0 (and so XLSX) cannot hold made visible."""
    return _XML_ILLEGAL.sub(_picture, text)


def html_text(text: object) -> str:
    """`text` safe inside HTML or SVG: XML-illegal characters made visible, then escaped."""
    return html.escape(xml_text(str(text)))


def csv_text(text: str) -> str:
    """A text cell a spreadsheet will not evaluate: prefixed with ' when it starts like a formula."""
    return "'" + text if text.startswith(CSV_FORMULA_START) else text


def display_width(text: str) -> int:
    if text.isascii():  # most cells (codes, amounts, dates): no character to look up
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
