"""The published list as files people open: CSV in UTF-8 with BOM (Excel shows the Chinese)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path

from registry.ledger import Line

KIND_LABELS = {"award": "奖励", "reversal": "冲销"}
CITY_LABELS = {"fuzhou": "福州市", "xiamen": "厦门市", "hangzhou": "杭州市"}
RULE_LABELS = {
    "fixed": "定额", "up_to": "上限（不超过）", "percent_of_related": "按相关奖补/数额比例",
    "percent_of_trigger": "按事项金额比例", "revenue_growth": "定额（增长达标）", "contribution": "按综合经济贡献计算",
    "per_incubated_hitech": "按在孵企业数计",
}

LIST_HEADER = ("序号", "清单日期", "统一社会信用代码", "企业名称", "所在城市", "政策文件", "条款", "条款编号",
               "类型", "本次列支金额（元）", "应享金额（元）", "金额性质", "文件状态", "应享奖励编号", "说明")


def rule_label(line: Line) -> str:
    capped = line.is_cap and line.amount_rule != "up_to"
    return RULE_LABELS[line.amount_rule] + ("，已封顶" if capped else "")


def list_rows(lines: list[Line]) -> list[tuple[str, ...]]:
    return [
        (str(i), line.list_date.isoformat(), line.uscc, line.firm_name or "", CITY_LABELS.get(line.city or "", ""),
         line.document_title, line.article, line.clause_id, KIND_LABELS[line.kind], f"{line.amount:.2f}",
         f"{line.entitled_amount:.2f}", rule_label(line),
         "征求意见稿（草案）" if line.is_draft else "正式", line.entitlement_id, line.reason)
        for i, line in enumerate(lines, start=1)
    ]


def list_csv_bytes(lines: list[Line]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LIST_HEADER)
    writer.writerows(list_rows(lines))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_atomically(path: Path, content: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def list_csv_path(output_dir: Path, list_date: dt.date) -> Path:
    return output_dir / f"免申即享兑付清单_{list_date.isoformat()}.csv"


def write_list_csv(output_dir: Path, list_date: dt.date, lines: list[Line]) -> Path:
    path = list_csv_path(output_dir, list_date)
    content = list_csv_bytes(lines)
    if not path.exists() or path.read_bytes() != content:
        write_atomically(path, content)
    return path
