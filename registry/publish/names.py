"""The names of a night's files in the lists folder: one place, used by the exports that write
them and by the pages that link to them."""

from __future__ import annotations

import datetime as dt

LIST_STEM = "免申即享兑付清单"
INDEX_NAME = "index.html"  # the nights, newest first, each with its files


def night_files(list_date: dt.date) -> dict[str, str]:
    """File name per export of the night `list_date` (csv, xlsx, parquet, changes, report)."""
    day = list_date.isoformat()
    return {"csv": f"{LIST_STEM}_{day}.csv", "xlsx": f"{LIST_STEM}_{day}.xlsx",
            "parquet": f"{LIST_STEM}_{day}.parquet", "changes": f"清单变动报告_{day}.csv",
            "report": f"报告_{day}.html"}
