"""Write the bundled samples of the published lists (sources/<name>/samples/), each shaped like the
real publication it stands for, dirt included. Deterministic; run from the repository root:

    .venv/bin/python sources/generate_list_samples.py

Every firm, name, 文号 and amount is invented; every USCC comes from registry.core.uscc.make_uscc (valid
check characters), except the ones that are wrong on purpose. list_samples.md beside this file lists, per
sample, the dirt it carries and what the registry must do with each dirty row. A sample may also be
a trimmed real file saved by hand (as single_champion.xlsx is): this script only owns the files it
writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from openpyxl import Workbook  # noqa: E402
from openpyxl.styles import Alignment, Font  # noqa: E402

from registry.core.uscc import make_uscc  # noqa: E402

# key: (division, name, GB/T 4754 section letter, 4-digit class, registered)
FIRMS = {
    "S01": ("350102", "福州鼓楼拓维精密制造有限公司", "C", "3484", "2013-03-12"),
    "S02": ("350104", "福州仓山启明智能装备有限公司", "C", "3493", "2015-07-01"),
    "S03": ("350111", "福州晋安海峡新材料科技有限公司", "C", "2929", "2011-10-20"),
    "S04": ("350121", "福州闽侯恒信电子科技有限公司", "C", "3976", "2016-05-09"),
    "S05": ("350112", "福建长乐纵横纺织科技有限公司", "C", "1751", "2009-01-15"),
    "S06": ("350102", "福州鼓楼智谷信息技术有限公司", "I", "6513", "2017-11-30"),
    "S07": ("350104", "福州仓山博睿检测技术有限公司", "M", "7452", "2014-06-18"),
    "S08": ("350103", "福州台江云启工程设计有限公司", "M", "7484", "2018-02-26"),
    "S09": ("350111", "福州晋安数联科技有限公司", "I", "6531", "2019-09-09"),
    "S10": ("350121", "福建闽侯永盛机械制造有限公司", "C", "3441", "2006-12-01"),
    "S11": ("350203", "厦门思明鹭岛软件有限公司", "I", "6513", "2012-08-08"),
    "S12": ("350206", "厦门湖里海晟光电科技有限公司", "C", "3976", "2010-04-22"),
    "S13": ("330108", "杭州滨江之江微电子有限公司", "I", "6520", "2016-03-03"),
    "S14": ("350112", "福州长乐滨海新能源科技有限公司", "C", "3825", "2020-10-10"),
    "S15": ("350102", "福州鼓楼榕城质量检验有限公司", "M", "7452", "2012-05-05"),
    "S16": ("350104", "福州仓山睿思软件有限公司", "I", "6513", "2021-01-11"),
}
BAD_CHECK = "91350102MA2XYZ0Q1B"  # position 18 is wrong on purpose


def uscc(key: str) -> str:
    return make_uscc(FIRMS[key][0], 7000 + int(key[1:]))


def name(key: str) -> str:
    return FIRMS[key][1]


def fullwidth(text: str) -> str:
    """What a copy from a web page or a Chinese IME sometimes gives: ９１３５… instead of 9135…"""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _titled_sheet(title: str, header: list[str], sheet_name: str) -> tuple[Workbook, object]:
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    return book, sheet


def _save(book: Workbook, path: Path) -> None:
    book.properties.creator = "registry sample generator"
    book.properties.created = dt.datetime(2026, 1, 1)
    book.properties.modified = dt.datetime(2026, 1, 1)
    book.save(path)


def srdi_provincial(path: Path) -> None:
    """福建省工信厅: 专精特新中小企业名单 (XLSX, merged title row, header on row 2)."""
    header = ["序号", "企业名称", "统一社会信用代码", "所在地区", "批次"]
    book, sheet = _titled_sheet("2026年福建省专精特新中小企业名单（第一批）", header, "名单")
    sheet.append(header)
    rows = [
        (1, name("S01"), uscc("S01"), "福州市鼓楼区", "2026年第一批"),
        (2, name("S02") + "  ", uscc("S02"), "福州市仓山区", "2026年第一批"),  # trailing spaces
        (3, name("S03"), fullwidth(uscc("S03")), "福州市晋安区", "2026年第一批"),  # full-width USCC
        (4, name("S04"), uscc("S04") + " ", "福州市闽侯县", " 2026年第一批"),
        (None, None, None, None, None),  # blank line
        (5, name("S10"), uscc("S10"), "福州市闽侯县", "2026年第一批"),
        (6, name("S12"), uscc("S12"), "厦门市湖里区", "2026年第一批"),
        (6, name("S12"), uscc("S12"), "厦门市湖里区", "2026年第一批"),  # duplicated row
        (7, "福州鼓楼某某科技有限公司", BAD_CHECK, "福州市鼓楼区", "2026年第一批"),  # bad check character
        (8, name("S14"), uscc("S14"), "福州市长乐区", "2026年第三批"),  # a batch the spec has no date for
    ]
    for row in rows:
        sheet.append(list(row))
    _save(book, path)


def little_giant(path: Path) -> None:
    """工信部: 专精特新"小巨人"企业名单 (XLSX, title + note rows, renamed header, merged 所在地区)."""
    header = ["序号", "企业名称", "社会统一信用代码", "所在地区", "批次"]  # 社会统一…: renamed header
    book, sheet = _titled_sheet("第七批专精特新“小巨人”企业名单", header, "Sheet1")
    sheet.append(["（按所在地区排列，排名不分先后）"])
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(header))
    sheet.append(header)
    rows = [
        (1, name("S01"), uscc("S01"), "福建省", "第七批"),
        (2, "福州晋安海峡新材料科技有限公司\u3000", uscc("S03"), None, "第七批"),  # ideographic space
        (3, name("S05"), uscc("S05").lower(), None, "第七批"),  # lower-case USCC
        (4, name("S12"), uscc("S12"), None, "第七批"),
        (None, None, None, None, None),
        (5, name("S13"), uscc("S13"), "浙江省", "第七批"),
        (5, name("S13"), uscc("S13"), "浙江省", "第七批"),  # duplicated row
    ]
    for row in rows:
        sheet.append(list(row))
    sheet.merge_cells("D4:D7")  # 所在地区 merged down the Fujian rows, as published
    _save(book, path)


def _write_csv(path: Path, rows: list[list[object]], encoding: str, bom: bool = False) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        if row == []:
            buffer.write("\r\n")  # a blank line, as Excel exports leave them
        else:
            writer.writerow(row)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def hitech(path: Path) -> None:
    """福建省科技厅: 高新技术企业认定/重新认定名单 (CSV in GB18030, 证书编号, 发证日期 in mixed forms)."""
    rows: list[list[object]] = [
        ["序号", "企业名称", "统一社会信用代码", "证书编号", "发证日期", "认定类型"],
        [1, name("S06"), uscc("S06"), "GR202635000101", "2026年3月18日", "认定"],
        [2, name("S07"), uscc("S07"), "GR202635000102", "2026/3/18", "认定"],
        [3, name("S08") + " ", uscc("S08"), "GR202635000103", "2026.3.18", "认定"],  # trailing space
        [],  # blank line
        [4, name("S09"), fullwidth(uscc("S09")), "ＧＲ２０２６３５０００１０４", "2026-03-18", "重新认定"],
        [5, name("S16"), uscc("S16"), "GR202635000105", "2026年3月18日", "重新认定"],
        [5, name("S16"), uscc("S16"), "GR202635000105", "2026年3月18日", "重新认定"],  # duplicated row
        [6, name("S15"), uscc("S15"), "GR202635000106", "2026年2月30日", "认定"],  # no such date
        [7, name("S11"), uscc("S11"), "GR202635000107", "2026年3月18日", "复审通过"],  # term not in the map
    ]
    _write_csv(path, rows, "gb18030")


def scale_up(path: Path) -> None:
    """市统计局: 新纳入规模以上工业企业名单 (CSV UTF-8 with BOM, 纳统年月 as 2026年3月)."""
    rows: list[list[object]] = [
        ["序号", "统一社会信用代码", "单位详细名称", "行业代码", "纳统年月", "所在区县", "备注"],
        [1, uscc("S02"), name("S02"), "C3493", "2026年3月", "仓山区", ""],
        [2, uscc("S04"), name("S04") + "  ", "C3976", "2026年3月", "闽侯县", ""],
        [3, " " + uscc("S10"), name("S10"), "C3441", "2026-03", "闽侯县", "月度纳统"],
        [],
        [4, fullwidth(uscc("S14")), name("S14"), "C3825", "2026年6月", "长乐区", ""],
        [4, fullwidth(uscc("S14")), name("S14"), "C3825", "2026年6月", "长乐区", ""],  # duplicated row
        [5, uscc("S03"), name("S03"), "C2929", "2026年13月", "晋安区", ""],  # no such month
        [6, uscc("S05"), name("S05"), "C1751"],  # the export stopped mid-row: a truncated line
    ]
    _write_csv(path, rows, "utf-8", bom=True)


def grant_payments(path: Path) -> None:
    """省工信厅/财政厅: 省级、国家级奖补资金拨付明细 (XLSX, amounts in 万元 with the dirt they carry)."""
    header = ["序号", "企业名称", "统一社会信用代码", "项目名称", "资金级别", "拨付金额\n（万元）", "拨付日期", "文号"]
    book, sheet = _titled_sheet("2026年专精特新企业奖补资金拨付明细表", header, "拨付明细")
    sheet.append(header)
    rows = [
        (1, name("S01"), uscc("S01"), "专精特新“小巨人”企业奖励", "省级", 100, dt.datetime(2026, 9, 10),
         "闽财企指〔2026〕45号"),
        (2, name("S03"), uscc("S03"), "专精特新\"小巨人\"企业奖励", "省级", "150.00", "2026/9/10",
         "闽财企指〔2026〕45号"),
        (3, name("S05"), uscc("S05"), "专精特新“小巨人”企业奖励", "国家级", "1,000.5", "2026年9月25日",
         "财建〔2026〕301号"),  # thousands separator
        (4, name("S02"), uscc("S02"), "专精特新中小企业奖励", "省级", "50万元", "2026.9.10", "闽财企指〔2026〕46号"),
        (5, name("S04"), uscc("S04"), "专精特新中小企业奖励", "省级", 12.5, dt.datetime(2026, 9, 10),
         "闽财企指〔2026〕46号"),
        (None,) * 8,
        (6, name("S10"), uscc("S10"), "专精特新中小企业奖励", "省级", "约30", "2026-09-10", "闽财企指〔2026〕46号"),
        (7, name("S12"), uscc("S12"), "专精特新中小企业奖励", "省级", "30", "2026-09-10", "闽财企指〔2026〕46号"),
        (7, name("S12"), uscc("S12"), "专精特新中小企业奖励", "省级", "30", "2026-09-10", "闽财企指〔2026〕46号"),
    ]
    for row in rows:
        sheet.append(list(row))
    for cell in sheet["G"][2:]:
        if isinstance(cell.value, dt.datetime):
            cell.number_format = "yyyy/m/d"
    _save(book, path)


def firm_master(path: Path) -> None:
    """市场监管局: 企业登记信息 via the data-sharing platform (JSON, SAIC field names)."""
    records: list[object] = []
    for key, (division, firm_name, section, klass, registered) in FIRMS.items():
        records.append({
            "uniscid": uscc(key), "entname": firm_name, "regorg": division,
            "regorg_cn": f"{division}市场监督管理局", "industryphy": section, "industryco": klass,
            "estdate": registered if key != "S02" else registered.replace("-", "/"),
        })
    records[3]["entname"] += "  "  # trailing spaces
    records[5]["industryco"] = "６５１３"  # full-width digits
    records[7] = {"uniscId": records[7].pop("uniscid"), **records[7]}  # a renamed key in one record
    records.insert(9, None)  # an empty record
    records.insert(10, dict(records[2]))  # a duplicated record
    conflict = dict(records[4])
    conflict["industryco"] = "3499"  # the same firm again with another industry: a conflict
    records.append(conflict)
    records.append({"uniscid": BAD_CHECK, "entname": "福州鼓楼某某科技有限公司", "regorg": "350102",
                    "industryphy": "C", "industryco": "3484", "estdate": "2019-01-01"})
    payload = {"code": "0000", "msg": "成功", "data": {"total": len(records), "records": records}}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def revocations(path: Path) -> None:
    """撤销/撤回公告名单 (CSV in GB18030): 撤销 ends a qualification; 撤回 withdraws a record in error."""
    rows: list[list[object]] = [
        ["序号", "企业名称", "统一社会信用代码", "资质名称", "级别", "处理类型", "原认定日期", "撤销日期", "文号",
         "发布日期", "原因"],
        [1, name("S07"), uscc("S07"), "高新技术企业", "国家级", "撤销", "2026-03-18", "2026年9月1日",
         "闽科高〔2026〕31号", "2026年9月5日", "发生重大安全事故"],
        [2, name("S04"), uscc("S04"), "专精特新中小企业", "省级", "撤回", "2026年5月20日", "",
         "闽工信中小〔2026〕40号", "2026/6/10", "误列入名单，予以撤回"],
        [],
        [3, name("S08"), uscc("S08"), "高新技术企业", "国家级", "撤销", "2026-03-18", "",
         "闽科高〔2026〕31号", "2026年9月5日", "撤销日期漏填"],  # 撤销 without 撤销日期
        [4, name("S16") + " ", fullwidth(uscc("S16")), "高新技术企业", "国家级", "撤销", "2026-03-18", "2026.10.8",
         "闽科高〔2026〕35号", "2026年10月12日", "不再符合认定条件"],
        [4, name("S16") + " ", fullwidth(uscc("S16")), "高新技术企业", "国家级", "撤销", "2026-03-18", "2026.10.8",
         "闽科高〔2026〕35号", "2026年10月12日", "不再符合认定条件"],  # duplicated row
    ]
    _write_csv(path, rows, "gb18030")


SAMPLES = {
    "srdi_provincial.xlsx": srdi_provincial,
    "little_giant.xlsx": little_giant,
    "hitech.csv": hitech,
    "scale_up.csv": scale_up,
    "grant_payments.xlsx": grant_payments,
    "firm_master.json": firm_master,
    "revocations.csv": revocations,
}


def main() -> None:
    for file_name, write in SAMPLES.items():
        path = HERE / Path(file_name).stem / "samples" / file_name  # the source's own folder
        write(path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
