"""The page's charts (registry.publish.svg): well-formed SVG whose bars stand where their values say."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from registry.publish import svg

NS = "{http://www.w3.org/2000/svg}"


def bars(text: str) -> list[tuple[float, float, str]]:
    root = ET.fromstring(text)
    return [(float(r.get("x")), float(r.get("width")), r.findtext(f"{NS}title") or "")
            for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]


def zero_x(text: str) -> float:
    lines = [ln for ln in ET.fromstring(text).iter(f"{NS}line") if ln.get("stroke") == svg.AXIS_COLOUR]
    return float(lines[-1].get("x1"))


def test_ticks_are_round_cover_the_values_and_include_zero() -> None:
    assert svg.nice_ticks(0, 7_500_000) == [0, 2_000_000, 4_000_000, 6_000_000, 8_000_000]
    assert svg.nice_ticks(-350_000, 1_200_000) == [-500_000, 0, 500_000, 1_000_000, 1_500_000]
    assert svg.nice_ticks(0, 1.25, whole=True) == [0, 1, 2]  # counts: no 0.5 tick
    assert svg.nice_ticks(0, 0)[0] == 0


def test_bars_are_proportional_and_negative_ones_lie_left_of_zero() -> None:
    rows = [("福州市", [svg.Part("福州市", 600_000.0, "green")]), ("厦门市", [svg.Part("厦门市", -200_000.0, "red")]),
            ("杭州市 & <b>", [svg.Part("杭州市", 300_000.0, "green")])]
    text = svg.stacked_bars(rows, "本期净额", str, value_label=lambda v: f"{v:,.2f}")
    drawn = bars(text)
    assert [t for *_, t in drawn] == ["福州市: 600,000.00", "厦门市: -200,000.00", "杭州市: 300,000.00"]
    zero = zero_x(text)
    (x1, w1, _), (x2, w2, _), (x3, w3, _) = drawn
    assert abs(x1 - zero) < 0.1 and abs(x3 - zero) < 0.1 and abs(x2 + w2 - zero) < 0.1
    assert abs(w1 / w3 - 2) < 0.01 and abs(w1 / w2 - 3) < 0.01
    assert "杭州市 &amp; &lt;b&gt;" in text and "-200,000.00" in text
    counts = svg.stacked_bars([("events · uscc", [svg.Part("events · uscc", 3.0, "green")])], "隔离行数",
                              str, value_label=lambda v: f"{v:,.0f}", whole=True)
    assert [t for *_, t in bars(counts)] == ["events · uscc: 3"]  # a count, not "3.00"


def test_stacked_parts_follow_each_other_from_zero() -> None:
    parts = [svg.Part("正式", 4_150_000.0, "g"), svg.Part("征求意见稿", 2_040_000.0, "a")]
    text = svg.stacked_bars([("文件状态", parts)], "构成", str)
    (x1, w1, _), (x2, w2, _) = bars(text)
    assert abs(x1 - zero_x(text)) < 0.1 and abs(x2 - (x1 + w1)) < 0.1 and abs(w1 / w2 - 4150 / 2040) < 0.01


def test_the_trend_draws_every_night_and_thins_its_dates() -> None:
    dates = [f"2026-{m:02d}-{d:02d}" for m in (9, 10) for d in range(1, 31)]
    awards, reversals = [100.0] * 60, [-10.0] * 60
    running = ("累计净额", [90.0 * i for i in range(60)], "b")
    text = svg.trend(dates, [("奖励", awards, "g"), ("冲销", reversals, "r")], running, "历次清单", str)
    root = ET.fromstring(text)
    assert len(bars(text)) == 120 and len(list(root.iter(f"{NS}circle"))) == 60
    shown = [t.text for t in root.iter(f"{NS}text") if t.text in dates]
    assert shown[0] == dates[0] and 5 <= len(shown) < 60  # readable, not 60 overlapping dates
    assert svg.trend([], [("奖励", [], "g")], ("累计净额", [], "b"), "历次清单", str).startswith("<svg")
