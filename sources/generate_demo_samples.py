"""Write the bundled sample data: firms.csv, events.csv and events_bad.csv (deterministic).

Run from the repository root:  .venv/bin/python sources/generate_demo_samples.py

All firms, names, codes and 文号 are invented. Every USCC is made by registry.core.uscc.make_uscc, so
check characters are valid and positions 3-8 equal the firm's division code. README.md in this
folder says which policy clause each firm is meant to exercise.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from registry.core.uscc import make_uscc  # noqa: E402

FIRM_FIELDS = ["uscc", "firm_name", "division_code", "industry_code", "registered_date"]
EVENT_FIELDS = [
    "uscc", "firm_name", "event_type", "action", "level", "effective_date", "published_date",
    "document_ref", "program", "amount", "fiscal_year", "revenue", "profit", "wages",
]  # fmt: skip

# key, division code, name, GB/T 4754 industry code, registered date
FIRMS = [
    # Fuzhou 福州 (3501xx)
    ("F01", "350102", "福州闽芯精密机械有限公司", "C3461", "2012-04-16"),
    ("F02", "350104", "福州榕创工程技术研究有限公司", "M7320", "2016-09-08"),
    ("F03", "350111", "福建晋安新材树脂有限公司", "C2651", "2008-03-21"),
    ("F04", "350121", "福州闽侯电子器件有限公司", "C3971", "2011-07-05"),
    ("F05", "350112", "福建长乐锂能电池有限公司", "C3841", "2014-11-20"),
    ("F06", "350103", "福州台江芯源微电子设计有限公司", "I6520", "2017-06-12"),
    ("F07", "350104", "福州仓山智测工程技术有限公司", "M7320", "2015-02-27"),
    ("F08", "350102", "福州鼓楼华光电子有限公司", "C3971", "2005-08-30"),
    ("F09", "350121", "福建闽侯热工装备有限公司", "C3461", "2009-12-03"),
    ("F10", "350111", "福州晋安新材料研究院有限公司", "M7320", "2013-05-14"),
    ("F11", "350102", "福州鼓楼云帆软件有限公司", "I6513", "2010-10-19"),
    ("F12", "350104", "福州仓山造物工业设计有限公司", "M7491", "2018-03-09"),
    ("F13", "350103", "福州台江数智软件有限公司", "I6513", "2019-01-22"),
    ("F14", "350112", "福州长乐海智工程技术有限公司", "M7320", "2020-06-18"),
    ("F15", "350111", "福州晋安星网软件开发有限公司", "I6510", "2012-09-27"),
    ("F16", "350121", "福州闽侯质检技术服务有限公司", "M7452", "2011-04-11"),
    ("F17", "350104", "福州仓山微核芯片设计有限公司", "I6520", "2021-03-15"),
    ("F18", "350103", "福州台江精电元器件有限公司", "C3971", "2016-12-01"),
    ("F19", "350102", "福州鼓楼青禾信息技术有限公司", "I6513", "2022-02-14"),
    ("F20", "350111", "福州晋安宏业机械制造有限公司", "C3461", "2019-08-06"),
    ("F21", "350112", "福建长乐储能电池科技有限公司", "C3841", "2007-05-25"),
    ("F22", "350121", "福州闽侯重工机械有限公司", "C3461", "2003-10-10"),
    ("F23", "350102", "福州鼓楼匠心塑胶制品有限公司", "C2927", "2014-08-21"),
    ("F24", "350103", "福州台江智联电子有限公司", "C3971", "2006-06-06"),
    ("F25", "350104", "福州仓山鑫源投资管理有限公司", "L7212", "2004-01-08"),
    ("F26", "350111", "福州晋安陆海联运有限公司", "G5810", "2010-07-19"),
    # Xiamen 厦门 (3502xx)
    ("X01", "350203", "厦门思明云图软件有限公司", "I6513", "2015-05-11"),
    ("X02", "350206", "厦门湖里精研光电有限公司", "C3971", "2009-09-17"),
    ("X03", "350205", "厦门海沧新材树脂有限公司", "C2651", "2012-02-08"),
    ("X04", "350211", "厦门集美锂电科技有限公司", "C3841", "2013-10-30"),
    ("X05", "350203", "厦门思明创研工程技术有限公司", "M7320", "2018-07-03"),
    ("X06", "350206", "厦门湖里测研技术服务有限公司", "M7452", "2008-04-25"),
    ("X07", "350205", "厦门海沧港联物流有限公司", "G5810", "2011-11-11"),
    ("X08", "350211", "厦门集美设计工场有限公司", "M7491", "2019-03-28"),
    ("X09", "350203", "厦门思明芯图集成电路设计有限公司", "I6520", "2020-08-19"),
    ("X10", "350206", "厦门湖里热能装备有限公司", "C3461", "2006-01-16"),
    ("X11", "350205", "厦门海沧资本管理有限公司", "L7212", "2016-06-06"),
    ("X12", "350211", "厦门集美智造机械有限公司", "C3461", "2014-12-09"),
    # Hangzhou 杭州 (3301xx)
    ("H01", "330108", "杭州滨江云栖软件有限公司", "I6513", "2011-03-14"),
    ("H02", "330106", "杭州西湖智算科技有限公司", "M7320", "2017-10-10"),
    ("H03", "330110", "杭州余杭新材树脂有限公司", "C2651", "2010-05-20"),
    ("H04", "330108", "杭州滨江芯微电子设计有限公司", "I6520", "2015-09-01"),
    ("H05", "330105", "杭州拱墅运河工业设计有限公司", "M7491", "2018-04-18"),
    ("H06", "330102", "杭州上城资产管理有限公司", "L7212", "2005-07-07"),
    ("H07", "330110", "杭州余杭锂能科技有限公司", "C3841", "2016-02-29"),
    ("H08", "330106", "杭州西湖检测技术有限公司", "M7452", "2012-12-12"),
    ("H09", "330105", "杭州拱墅精工机械有限公司", "C3461", "2003-06-30"),
    ("H10", "330108", "杭州滨江数据软件有限公司", "I6510", "2013-08-08"),
    ("H11", "330102", "杭州上城供应链管理有限公司", "G5810", "2014-04-04"),
    ("H12", "330110", "杭州余杭电子元件有限公司", "C3971", "2009-11-23"),
]

# Event tables, one row a line, columns separated by "|"; blank cells are empty fields.
# The comment at the end of a line (after "#") names the README case; it is not written out.
# key | event_type | action | level | effective_date | published_date | document_ref
EVENTS = """
F22 | scale_up         | granted   |            | 2008-12-31 |            | 福州市统计局2008年升规纳统
F08 | scale_up         | granted   |            | 2012-12-31 |            | 福州市统计局2012年升规纳统
F09 | scale_up         | granted   |            | 2015-06-30 |            | 福州市统计局2015年升规纳统
F21 | scale_up         | granted   |            | 2019-03-31 | 2019-04-20 | 福州市统计局2019年升规纳统
F25 | scale_up         | granted   |            | 2019-12-31 | 2020-01-20 | 福州市统计局2019年升规纳统
F10 | scale_up         | granted   |            | 2020-06-30 | 2020-07-20 | 福州市统计局2020年升规纳统
F05 | scale_up         | granted   |            | 2020-06-30 | 2020-07-20 | 福州市统计局2020年升规纳统
F03 | srdi_provincial  | granted   | provincial | 2021-06-18 | 2021-06-25 | 闽工信中小〔2021〕31号  # S3
F15 | scale_up         | granted   |            | 2021-09-30 | 2021-10-20 | 福州市统计局2021年升规纳统
F11 | scale_up         | granted   |            | 2022-03-31 | 2022-04-20 | 福州市统计局2022年升规纳统
F05 | srdi_provincial  | granted   | provincial | 2022-06-28 | 2022-07-05 | 闽工信中小〔2022〕27号  # L1
F11 | hitech           | granted   | national   | 2023-03-15 | 2023-03-22 | 闽科高〔2023〕6号
F13 | hitech           | granted   | national   | 2023-03-15 | 2023-03-22 | 闽科高〔2023〕6号
F04 | srdi_provincial  | granted   | provincial | 2023-05-20 | 2023-05-26 | 闽工信中小〔2023〕22号
F16 | scale_up         | granted   |            | 2023-06-30 | 2023-07-20 | 福州市统计局2023年升规纳统
F15 | hitech           | granted   | national   | 2024-03-20 | 2024-03-27 | 闽科高〔2024〕5号  # H6
F26 | scale_up         | granted   |            | 2024-03-31 | 2024-04-20 | 福州市统计局2024年升规纳统
F03 | srdi_provincial  | expired   | provincial | 2024-06-18 | 2024-06-25 | 闽工信中小〔2021〕31号  # S3
F16 | hitech           | granted   | national   | 2025-08-15 | 2025-08-22 | 闽科高〔2025〕19号  # H7
F19 | innovative_sme   | granted   | provincial | 2026-02-26 | 2026-03-02 | 闽工信中小〔2026〕9号  # N1
F20 | innovative_sme   | granted   | provincial | 2026-02-26 | 2026-03-02 | 闽工信中小〔2026〕9号  # N2
F10 | hitech           | granted   | national   | 2026-03-18 | 2026-03-25 | 闽科高〔2026〕7号  # H1
F11 | hitech           | renewed   | national   | 2026-03-18 | 2026-03-25 | 闽科高〔2026〕7号  # H2
F12 | hitech           | granted   | national   | 2026-03-18 | 2026-03-25 | 闽科高〔2026〕7号  # H3
F13 | hitech           | renewed   | national   | 2026-03-18 | 2026-03-25 | 闽科高〔2026〕7号  # H4
F14 | hitech           | granted   | national   | 2026-04-08 | 2026-04-15 | 闽科高〔2026〕11号  # H5
F17 | hitech           | granted   | national   | 2026-04-08 | 2026-04-15 | 闽科高〔2026〕11号  # H8
F21 | hitech           | granted   | national   | 2026-04-08 | 2026-04-15 | 闽科高〔2026〕11号  # H9
F22 | tech_center      | granted   | provincial | 2026-04-20 | 2026-04-24 | 闽工信科技〔2026〕15号  # P1
F01 | srdi_provincial  | granted   | provincial | 2026-05-20 | 2026-05-25 | 闽工信中小〔2026〕21号  # S1
F02 | srdi_provincial  | granted   | provincial | 2026-05-20 | 2026-05-25 | 闽工信中小〔2026〕21号  # S2
F03 | srdi_provincial  | granted   | provincial | 2026-05-20 | 2026-05-25 | 闽工信中小〔2026〕21号  # S3
F04 | srdi_provincial  | renewed   | provincial | 2026-05-20 | 2026-05-25 | 闽工信中小〔2026〕21号  # S4
F18 | srdi_provincial  | granted   | provincial | 2026-05-20 | 2026-05-25 | 闽工信中小〔2026〕21号  # S5
F18 | srdi_provincial  | retracted | provincial | 2026-05-20 | 2026-06-10 | 闽工信中小〔2026〕24号  # S5
F08 | single_champion  | granted   | national   | 2026-06-16 | 2026-06-20 | 工信部产业〔2026〕58号  # C1
F09 | single_champion  | granted   | provincial | 2026-06-30 | 2026-07-06 | 闽工信产业〔2026〕33号  # C2
F14 | scale_up         | granted   |            | 2026-07-01 | 2026-07-15 | 福州市统计局2026年升规纳统  # H5
F05 | little_giant     | granted   | national   | 2026-07-15 | 2026-07-20 | 工信部企业函〔2026〕142号  # L1
F06 | little_giant     | granted   | national   | 2026-07-15 | 2026-07-20 | 工信部企业函〔2026〕142号  # L2
F07 | little_giant     | granted   | national   | 2026-07-15 | 2026-07-20 | 工信部企业函〔2026〕142号  # L3
F23 | design_center    | granted   | municipal  | 2026-08-12 | 2026-08-18 | 榕工信技术〔2026〕40号  # P2
F24 | 5g_factory       | granted   | national   | 2026-08-26 | 2026-09-01 | 工信部信管函〔2026〕77号  # P3
F17 | hitech           | revoked   | national   | 2026-09-01 | 2026-09-05 | 闽科高〔2026〕23号  # H8
X06 | scale_up         | granted   |            | 2015-12-31 |            | 厦门市统计局2015年升规纳统
X02 | scale_up         | granted   |            | 2018-06-30 | 2018-07-20 | 厦门市统计局2018年升规纳统
X12 | scale_up         | granted   |            | 2021-06-30 | 2021-07-20 | 厦门市统计局2021年升规纳统
X02 | hitech           | granted   | national   | 2023-03-15 | 2023-03-22 | 闽科高〔2023〕6号
X05 | scale_up         | granted   |            | 2024-03-31 | 2024-04-20 | 厦门市统计局2024年升规纳统  # XM1
X08 | innovative_sme   | granted   | provincial | 2026-02-26 | 2026-03-02 | 闽工信中小〔2026〕9号
X01 | hitech           | granted   | national   | 2026-03-18 | 2026-03-25 | 闽科高〔2026〕7号
X02 | hitech           | renewed   | national   | 2026-03-18 | 2026-03-25 | 闽科高〔2026〕7号
X03 | srdi_provincial  | granted   | provincial | 2026-05-20 | 2026-05-25 | 闽工信中小〔2026〕21号
X09 | srdi_provincial  | granted   | provincial | 2026-05-20 | 2026-05-25 | 闽工信中小〔2026〕21号
X10 | single_champion  | granted   | provincial | 2026-06-30 | 2026-07-06 | 闽工信产业〔2026〕33号
X04 | little_giant     | granted   | national   | 2026-07-15 | 2026-07-20 | 工信部企业函〔2026〕142号
H08 | scale_up         | granted   |            | 2019-06-30 | 2019-07-20 | 杭州市统计局2019年升规纳统
H01 | scale_up         | granted   |            | 2020-03-31 | 2020-04-20 | 杭州市统计局2020年升规纳统
H12 | scale_up         | granted   |            | 2022-12-31 | 2023-01-20 | 杭州市统计局2022年升规纳统
H02 | hitech           | granted   | national   | 2023-12-08 | 2023-12-15 | 浙科高〔2023〕41号
H09 | innovative_sme   | granted   | provincial | 2026-03-10 | 2026-03-16 | 浙经信中小〔2026〕12号
H01 | hitech           | granted   | national   | 2026-04-08 | 2026-04-15 | 浙科高〔2026〕9号
H10 | hitech           | granted   | national   | 2026-04-08 | 2026-04-15 | 浙科高〔2026〕9号
H03 | srdi_provincial  | granted   | provincial | 2026-05-28 | 2026-06-03 | 浙经信中小〔2026〕30号
H07 | single_champion  | granted   | national   | 2026-06-16 | 2026-06-20 | 工信部产业〔2026〕58号
H05 | design_center    | granted   | provincial | 2026-06-26 | 2026-07-02 | 浙经信技术〔2026〕18号
H04 | little_giant     | granted   | national   | 2026-07-15 | 2026-07-20 | 工信部企业函〔2026〕142号
H02 | hitech           | renewed   | national   | 2026-10-20 | 2026-10-27 | 浙科高〔2026〕52号
"""

# provincial_grant rows (action granted, level provincial):
# key | effective_date | published_date | document_ref | program | amount
GRANTS = """
F05 | 2026-09-10 | 2026-09-12 | 闽财企〔2026〕31号 | little_giant | 1000000.00  # L1
F06 | 2026-09-25 | 2026-09-28 | 闽财企〔2026〕35号 | little_giant | 1500000.00  # L2
X04 | 2026-09-10 | 2026-09-12 | 闽财企〔2026〕31号 | little_giant | 1000000.00
H04 | 2026-09-18 | 2026-09-22 | 浙财企〔2026〕44号 | little_giant | 800000.00
"""

# annual_report rows (effective_date = end of the fiscal year):
# key | fiscal_year | published_date | revenue | profit | wages
REPORTS = """
X05 | 2024 | 2025-04-30 | 32000000.00  | 2400000.00  | 5600000.00   # XM1
X05 | 2025 | 2026-04-30 | 36000000.00  | 2900000.00  | 6100000.00   # XM1
X06 | 2024 | 2025-04-30 | 80000000.00  | 8000000.00  | 12000000.00  # XM2
X06 | 2025 | 2026-04-30 | 100000000.00 | 10000000.00 | 14000000.00  # XM2
"""

# events_bad.csv, same columns as EVENTS plus optional program | amount. The key may instead be
# "=CODE" (use CODE as the uscc verbatim) or "~KEY" (KEY's uscc in full-width, padded with an
# ideographic space in front and a space behind: good once normalised). Each bad row is wrong in
# exactly one field: see README.md.
BAD_EVENTS = """
F25 | innovative_sme | granted | provincial | 2026-02-26 | 2026-03-02 | 闽工信中小〔2026〕9号
=91350203M0001QAY9B | innovative_sme | granted | provincial | 2026-02-26 | 2026-03-02 | 闽工信中小〔2026〕9号
F26 | hitec | granted | national | 2026-04-08 | 2026-04-15 | 闽科高〔2026〕11号
H11 | scale_up | granted | | 2026-03-31 | 2026-04-20 | 杭州市统计局2026年升规纳统
F20 | scale_up | granted | | 2026-13-40 | 2026-07-15 | 福州市统计局2026年升规纳统
X11 | innovative_sme | | provincial | 2026-02-26 | 2026-03-02 | 闽工信中小〔2026〕9号
~F19 | scale_up | granted | | 2026-06-30 | 2026-07-15 | 福州市统计局2026年升规纳统
X07 | provincial_grant | granted | provincial | 2026-09-10 | 2026-09-12 | | little_giant | 100万
X11 | innovative_sme | granted | provincial | 2026-02-26 | 2026-03-02 | 闽工信中小〔2026〕9号
"""

FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
ACTION_ORDER = ["granted", "renewed", "expired", "revoked", "retracted"]


def rows(table: str) -> list[list[str]]:
    """The cells of a "|" table, one list per non-blank line, trailing "# comment" removed."""
    out = []
    for line in table.strip().splitlines():
        out.append([cell.strip() for cell in line.split("#")[0].split("|")])
    return out


def firm_table() -> dict[str, dict[str, str]]:
    """key -> firm row. Serials are spread so neighbouring firms get unrelated-looking codes."""
    table = {}
    for n, (key, division, name, industry, registered) in enumerate(FIRMS, start=1):
        table[key] = {
            "uscc": make_uscc(division, 7919 * n + 104_729),
            "firm_name": name,
            "division_code": division,
            "industry_code": industry,
            "registered_date": registered,
        }
    return table


def event_row(firm: dict[str, str], cells: list[str], **extra: str) -> dict[str, str]:
    """An events-contract row from the 7 EVENTS columns (plus program, amount if present)."""
    names = ["event_type", "action", "level", "effective_date", "published_date", "document_ref",
             "program", "amount"]  # fmt: skip
    row = dict.fromkeys(EVENT_FIELDS, "")
    row.update(uscc=firm["uscc"], firm_name=firm["firm_name"])
    row.update(zip(names, cells, strict=False))
    row.update(extra)
    return row


def all_events(firms: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    events = [event_row(firms[key], cells) for key, *cells in rows(EVENTS)]
    for key, effective, published, doc, program, amount in rows(GRANTS):
        cells = ["provincial_grant", "granted", "provincial", effective, published, doc, program, amount]
        events.append(event_row(firms[key], cells))
    for key, year, published, revenue, profit, wages in rows(REPORTS):
        cells = ["annual_report", "granted", "", f"{year}-12-31", published, f"{year}年度统计年报"]
        events.append(event_row(firms[key], cells, fiscal_year=year, revenue=revenue, profit=profit,
                                wages=wages))  # fmt: skip
    events.sort(key=lambda r: (r["effective_date"], ACTION_ORDER.index(r["action"]), r["published_date"],
                               r["uscc"]))  # fmt: skip
    return events


def bad_events(firms: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for key, *cells in rows(BAD_EVENTS):
        if key.startswith("="):
            out.append(event_row({"uscc": key[1:], "firm_name": firms["X01"]["firm_name"]}, cells))
        elif key.startswith("~"):
            firm = firms[key[1:]]
            padded = "\u3000" + "".join(FULL_WIDTH.get(c, c) for c in firm["uscc"]) + " "
            out.append(event_row(firm, cells, uscc=padded))
        else:
            out.append(event_row(firms[key], cells))
    return out


def cell(value: str) -> str:
    """CSV quoting that also keeps leading/trailing white space visible (QUOTE_MINIMAL does not)."""
    if value != value.strip() or any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_csv(path: Path, fields: list[str], table: list[dict[str, str]]) -> None:
    lines = [",".join(fields)] + [",".join(cell(row[f]) for f in fields) for row in table]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")


def main() -> None:
    firms = firm_table()
    assert all(f["uscc"][2:8] == f["division_code"] for f in firms.values())
    events, bad = all_events(firms), bad_events(firms)
    write_csv(HERE / "firms" / "samples" / "firms.csv", FIRM_FIELDS, list(firms.values()))
    write_csv(HERE / "events" / "samples" / "events.csv", EVENT_FIELDS, events)
    write_csv(HERE / "events" / "samples" / "events_bad.csv", EVENT_FIELDS, bad)
    print(f"wrote {len(firms)} firms, {len(events)} events, {len(bad)} rows in events_bad.csv")


if __name__ == "__main__":
    main()
