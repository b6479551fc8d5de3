"""`registry explain` and `registry firm`: why a line exists, in Chinese and in English."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from audit_support import H1, H9, L1, L2, db_of, entitlement_of

from registry.cli import main
from registry.core.errors import NotFound
from registry.explain.entitlement import explain_entitlement
from registry.explain.firm import firm_timeline

pytestmark = pytest.mark.slow  # nights built with dbt

pytest_plugins = ["audit_fixtures"]  # the shared history: fixtures `states`, `second`

MATCH = "fz-2026-5.a5.1.little-giant-match"


def test_a_little_giant_matching_award_explained(second: Path) -> None:
    text = explain_entitlement(second, entitlement_of(second, L1))
    for expected in (
        "福建长乐锂能电池有限公司（91350112MAL6KEXG9M），福州市",
        "榕政办规〔2026〕5号", "附件5 一", "在省级财政奖励的基础上市级配套奖励 50%",
        "[触发事实] 国家级专精特新“小巨人”企业 新认定 国家级，生效 2026-07-15",
        "[计算基数] 省级奖补（实际到账）", "闽财企〔2026〕41号", "第 73 行",
        "金额计算：1,400,000.00 元（1,000,000.00 + 400,000.00）× 50% = 700,000.00 元",
        "就高不重复（组 fz.little_giant", "fz-ps-2025.1.1.little-giant-first 500,000.00 元 → 被同组更高奖励取代",
        "2026-09-30 奖励 500,000.00 元", "2026-11-01 奖励 200,000.00 元", "金额调增", "公示期满，2026-11-01 确认",
        "已列支净额 700,000.00 元",
    ):
        assert expected in text, expected


def test_english(second: Path, capsys) -> None:
    assert main(["--db", str(second), "explain", entitlement_of(second, L1), "--lang", "en"]) == 0
    text = capsys.readouterr().out
    for expected in ("Firm: 福建长乐锂能电池有限公司 (91350112MAL6KEXG9M), fuzhou", "[trigger] little_giant granted",
                     "Arithmetic: 1,400,000.00 yuan", "x 50% = 700,000.00 yuan", "Stacking (就高不重复",
                     "amount raised: payable 700000.00, listed 500000.00", "net listed 700,000.00 yuan"):
        assert expected in text, expected


def test_a_lowered_award_shows_the_corrected_fact_apart(second: Path) -> None:
    text = explain_entitlement(second, entitlement_of(second, L2))
    assert "1,500,000.00 元（仅 2026-09-30 列支时依据，现已更正或撤回，不再计入）" in text
    assert "金额计算：1,200,000.00 元" in text and "= 600,000.00 元" in text
    assert "冲销 -150,000.00 元" in text and "冲销/调整原列支行" in text


def test_a_reversal_of_a_retracted_record_explained_from_the_ledger(second: Path) -> None:
    text = explain_entitlement(second, entitlement_of(second, H1))
    assert "当前模型中已无此项" in text
    assert "[来源撤回] 国家高新技术企业 撤回（来源更正） 国家级，生效 2026-03-18，发布 2026-10-08" in text
    assert "corrections.csv" in text
    assert "2026-11-01 冲销 -200,000.00 元" in text and "来源已撤回触发记录" in text
    assert "已列支净额 0.00 元" in text


def test_a_held_award_shows_the_objection(second: Path) -> None:
    text = explain_entitlement(second, entitlement_of(second, H9), "en")
    assert "hold: 异议：公示期间收到实名反映" in text and "held by an objection" in text


def test_firm_timeline(second: Path) -> None:
    text = firm_timeline(second, L1)
    for expected in ("事件：", "梯度变化：", "2022-06-28 起 省级专精特新中小企业",
                     "2026-07-15 起 国家级专精特新“小巨人”企业", "应享奖励（模型日期 2026-11-01）：", MATCH,
                     "兑付台账：", "合计：列支 700,000.00 元，冲销 0.00 元，净额 700,000.00 元"):
        assert expected in text, expected
    text = firm_timeline(second, L2, "en")
    assert "totals: listed 750,000.00, reversed -150,000.00, net 600,000.00 yuan" in text


@pytest.mark.parametrize("bad", ["no-such-id", "' or 1=1 --", "x'); drop table ledger.lines; --"])
def test_unknown_ids_are_not_found_and_reach_sql_only_as_parameters(second: Path, bad: str) -> None:
    with pytest.raises(NotFound):
        explain_entitlement(second, bad)
    with pytest.raises(NotFound):
        firm_timeline(second, bad)


def test_explain_reads_the_snapshot_while_a_writer_holds_the_live_file(states, tmp_path: Path) -> None:
    shutil.copytree(states["second"], tmp_path / "state")
    db = tmp_path / "state" / "registry.duckdb"
    hold_the_lock = ("import duckdb, sys, time\n"
                     "con = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)")
    writer = subprocess.Popen([sys.executable, "-c", hold_the_lock, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        started = time.monotonic()
        text = explain_entitlement(db, entitlement_of(db_of(states["second"]), L1))
        assert time.monotonic() - started < 30
    finally:
        writer.kill()
        writer.wait()
    assert text.startswith("（实时库正在写入，以下读自审计快照") and "700,000.00" in text
