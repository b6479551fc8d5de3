"""The nightly list, checked by hand against the policy texts, and the ledger's behaviour over nights.

Amounts below were computed by hand from the seed documents (see sources/README.md for
the cases and policies/*.yml for the readings chosen):
  榕政办规〔2026〕5号 附件2 五: 单项冠军 national 100万, provincial 50万;
  附件5 一: 小巨人 50% of the provincial award actually paid; 省级专精特新 工信企业 10万 (from 2026-02-13);
  福州生产性服务业措施（征求意见稿）一（一）: 高企 规上 不超过20万 / 规下 不超过10万;
  首次 省级专精特新 10万; 首次 小巨人 50万; 就高不重复 between the two documents.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import DEMO_DATE, new_db

from registry.cli import main
from registry.core import settings
from registry.ingest.land import ingest_file
from registry.ledger.append import LedgerError
from registry.pipeline.demo import SAMPLE_FILES
from registry.pipeline.nightly import publish_list, run_nightly

pytestmark = pytest.mark.slow  # nights built with dbt

HAND_COMPUTED = {
    # uscc: (clause_id, yuan)
    "91350102MA7WATGX4K": ("fz-2026-5.a2.5.single-champion-national", "1000000.00"),  # C1
    "91350121MA3R7YCP9U": ("fz-2026-5.a2.5.single-champion-provincial", "500000.00"),  # C2
    "91350102MA5JYYF90E": ("fz-2026-5.a5.1.srdi-industrial", "100000.00"),  # S1 tie: in-force beats draft
    "91350104MA1FW3B3X5": ("fz-ps-2025.1.1.srdi-first", "100000.00"),  # S2 service firm: only 首次 clause
    "91350111MAWCR76W28": ("fz-2026-5.a5.1.srdi-industrial", "100000.00"),  # S3 新获评 though not 首次
    "91350112MAL6KEXG9M": ("fz-2026-5.a5.1.little-giant-match", "500000.00"),  # L1 50% of 100万 = 50万 tie
    "91350103MAG3GJRA14": ("fz-2026-5.a5.1.little-giant-match", "750000.00"),  # L2 50% of 150万 > 50万
    "91350104MAC0DNM457": ("fz-ps-2025.1.1.little-giant-first", "500000.00"),  # L3 no grant yet: fixed 50万
    "91350111MAYN538H50": ("fz-ps-2025.1.1.hitech-above", "200000.00"),  # H1 新认定 规上
    "91350102MATK274B31": ("fz-ps-2025.1.1.hitech-above", "200000.00"),  # H2 重新认定 规上
    "91350104MANFYB0596": ("fz-ps-2025.1.1.hitech-below", "100000.00"),  # H3 新认定 规下
    "91350103MAJCUETY7W": ("fz-ps-2025.1.1.hitech-below", "100000.00"),  # H4 重新认定 规下
    "91350112MAE9QJNQ3R": ("fz-ps-2025.1.1.hitech-below", "100000.00"),  # H5 升规 after the 高企 date
    "91350121MA63JTEC02": ("fz-ps-2025.1.1.hitech-above", "200000.00"),  # H7 2025-08, inside the window
    "91350112MAGK4EQD6H": ("fz-ps-2025.1.1.hitech-above", "200000.00"),  # H9 the clause has no industry scope
    "91350121MACG1JL71B": ("fz-2026-5.a2.1.tech-center-provincial", "700000.00"),  # P1 附件2 一 省级技术中心
    "91350102MA8CXNG15W": ("fz-2026-5.a2.2.design-center-municipal", "300000.00"),  # P2 附件2 二 市级设计中心
    "91350103MA49TTBT74": ("fz-2026-5.a3.4.5g-factory", "200000.00"),  # P3 附件3 四 国家级5G工厂
    # XM2 综合经济贡献 FY2025 91,200,000 (0.9*1亿+0.05*1000万+0.05*1400万), FY2024 73,000,000:
    # 存量 floor(7300/2000)=3 x 8万 + 增量 floor(1820/1000)=1 x 10万 = 34万 (whole units)
    "91350206MA2G3T991Q": ("xm-kf-2025.1.contribution", "340000.00"),
}
NOT_LISTED = {
    "91350111MAA6MNJJX4": "H6 高企 2024-03, before the draft's window",
    "91350104MA20FYA68F": "H8 高企 revoked before the night",
    "91350121MAQ9NB2N9M": "S4 srdi renewal is neither 新获评 nor 首次",
    "91350103MAWWD36015": "S5 srdi grant retracted by its source",
    "91350102MAQRA71RX0": "N1 创新型中小企业 has no city award",
    "91350203MA6K6NDF7P": "XM1 首次升规 2024-03, before the Xiamen draft's window (read as 2025-01-01)",
}
CITY_OF_PREFIX = {"fz-": "3501", "xm-": "3502", "hz-": "3301"}


def load_samples(db: Path) -> None:
    for source, name in SAMPLE_FILES:
        ingest_file(source, settings.sample(source, name), db)


def demo_lines(demo_db: Path) -> dict[str, tuple[str, str]]:
    with duckdb.connect(str(demo_db), read_only=True) as con:
        rows = con.execute("select uscc, clause_id, amount from ledger.lines where list_date = ?",
                           [DEMO_DATE]).fetchall()
    assert len(rows) == len({uscc for uscc, _, _ in rows}), "one line per firm expected in this sample"
    return {uscc: (clause, f"{amount:.2f}") for uscc, clause, amount in rows}


def test_demo_list_matches_the_hand_computed_amounts(demo_db: Path) -> None:
    assert demo_lines(demo_db) == HAND_COMPUTED


def test_cases_that_must_not_be_paid_are_absent(demo_db: Path) -> None:
    listed = demo_lines(demo_db)
    assert {uscc: why for uscc, why in NOT_LISTED.items() if uscc in listed} == {}


def test_no_firm_gets_an_award_of_another_city(demo_db: Path) -> None:
    lines = demo_lines(demo_db).items()
    assert all(uscc[2:6] == CITY_OF_PREFIX[clause[:3]] for uscc, (clause, _) in lines)


def test_demo_total(demo_db: Path) -> None:
    total = sum(Decimal(amount) for _, amount in HAND_COMPUTED.values())
    with duckdb.connect(str(demo_db), read_only=True) as con:
        assert con.execute("select total from ledger.lists").fetchall() == [(total,)]
    assert total == Decimal("6190000.00")


def test_list_csv_opens_in_excel(demo_db: Path) -> None:
    csv_path = settings.output_dir(demo_db) / f"免申即享兑付清单_{DEMO_DATE}.csv"
    content = csv_path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    text = content.decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[:4] == ["序号", "清单日期", "统一社会信用代码", "企业名称"]
    assert "本次列支金额（元）" in header
    assert len(text.splitlines()) == 1 + len(HAND_COMPUTED)


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "registry.duckdb"
    shutil.copy(demo_db, db)
    shutil.copytree(settings.output_dir(demo_db), settings.output_dir(db))
    return db


def test_nightly_json_twice_for_the_same_date_is_identical(demo_copy: Path, capsys) -> None:
    outputs = []
    for _ in range(2):
        assert main(["--db", str(demo_copy), "nightly", "--date", str(DEMO_DATE), "--json"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    listed = json.loads(outputs[0])
    assert listed["date"] == "2026-11-01" and listed["total"] == "6190000.00"
    assert set(listed["lines"][0]) == {"entitlement_id", "uscc", "clause_id", "amount", "kind"}
    assert {line["kind"] for line in listed["lines"]} == {"award"}


def test_rerun_rewrites_nothing(demo_copy: Path) -> None:
    csv_path = settings.output_dir(demo_copy) / f"免申即享兑付清单_{DEMO_DATE}.csv"
    before = csv_path.read_bytes()
    csv_path.unlink()  # even a lost export comes back byte-identical from the ledger
    again = publish_list(DEMO_DATE, demo_copy)
    assert csv_path.read_bytes() == before
    assert again.to_json_obj()["total"] == "6190000.00"


def test_a_night_with_no_new_facts_lists_nothing(demo_copy: Path) -> None:
    nxt = run_nightly(DEMO_DATE + dt.timedelta(days=1), demo_copy)
    assert nxt.lines == () and nxt.to_json_obj() == {"date": "2026-11-02", "lines": [], "total": "0.00"}


def test_an_earlier_night_than_the_last_published_is_refused(demo_copy: Path) -> None:
    with pytest.raises(LedgerError, match="already published"):
        publish_list(dt.date(2026, 10, 1), demo_copy)


def test_an_earlier_night_is_refused_before_anything_is_built(demo_copy: Path, monkeypatch, capsys) -> None:
    """The date-order check comes first (no catalog load, no dbt build) and is final: retrying cannot help."""
    from registry.pipeline import nightly

    def must_not_run(*_args, **_kwargs):
        raise AssertionError("built before the list date was checked")

    monkeypatch.setattr(nightly, "load_rules", must_not_run)
    monkeypatch.setattr(nightly, "build_models", must_not_run)
    with pytest.raises(nightly.ListDateRefused, match="before 2026-11-01, the last night published") as refused:
        run_nightly(dt.date(2026, 10, 1), demo_copy)
    assert refused.value.retryable is False and "2026-11-01" in (refused.value.hint or "")
    nightly.check_list_date(DEMO_DATE, demo_copy)  # the published night itself: returned unchanged, fine
    nightly.check_list_date(DEMO_DATE + dt.timedelta(days=1), demo_copy)
    assert main(["--db", str(demo_copy), "nightly", "--date", "2026-10-01"]) == 2
    err = capsys.readouterr().err
    assert "can no longer be listed" in err and "hint:" in err and "Traceback" not in err


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[tuple[str, str, str]]]]:
    """Four nights over the samples, each knowing only what was published by then."""
    db = new_db(tmp_path_factory.mktemp("nights") / "registry.duckdb")
    load_samples(db)
    by_night: dict[str, dict[str, list[tuple[str, str, str]]]] = {}
    for night in ("2026-05-26", "2026-06-15", "2026-09-11", "2026-09-30", "2026-11-01"):
        published = run_nightly(dt.date.fromisoformat(night), db)
        lines: dict[str, list[tuple[str, str, str]]] = {}
        for line in published.lines:
            lines.setdefault(line.uscc, []).append((line.clause_id, line.kind, f"{line.amount:.2f}"))
        by_night[night] = lines
    with duckdb.connect(str(db), read_only=True) as con:
        net = con.execute("select uscc, clause_id, sum(amount) from ledger.lines group by all having sum(amount) <> 0")
        by_night["net"] = {u: [(c, "net", f"{a:.2f}")] for u, c, a in net.fetchall()}
    return by_night


def test_a_retracted_record_is_reversed_on_the_next_night(nights) -> None:
    s5 = "91350103MAWWD36015"  # srdi grant published 05-25, retracted by its source 06-10
    assert nights["2026-05-26"][s5] == [("fz-2026-5.a5.1.srdi-industrial", "award", "100000.00")]
    assert nights["2026-06-15"][s5] == [("fz-2026-5.a5.1.srdi-industrial", "reversal", "-100000.00")]


def test_a_revoked_designation_is_reversed(nights) -> None:
    h8 = "91350104MA20FYA68F"  # 高企 granted 04-08, revoked 09-01 (published 09-05)
    assert nights["2026-05-26"][h8] == [("fz-ps-2025.1.1.hitech-below", "award", "100000.00")]
    assert nights["2026-09-11"][h8] == [("fz-ps-2025.1.1.hitech-below", "reversal", "-100000.00")]


def test_a_higher_award_in_the_stacking_group_replaces_the_lower_one(nights) -> None:
    l2 = "91350103MAG3GJRA14"  # 小巨人 07-15; provincial award 150万 paid 09-25
    assert nights["2026-09-11"][l2] == [("fz-ps-2025.1.1.little-giant-first", "award", "500000.00")]
    assert sorted(nights["2026-09-30"][l2]) == [
        ("fz-2026-5.a5.1.little-giant-match", "award", "750000.00"),
        ("fz-ps-2025.1.1.little-giant-first", "reversal", "-500000.00"),
    ]


def test_nights_end_where_one_fresh_night_does(nights, demo_db: Path) -> None:
    assert nights["2026-11-01"] == {}
    net = {uscc: (clause, amount) for uscc, [(clause, _, amount)] in nights["net"].items()}
    assert net == demo_lines(demo_db)
