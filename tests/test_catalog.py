"""The policy catalog loads, and refuses what a reviewer must fix, naming file, clause and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from registry.catalog.read import CatalogError, overlapping_pairs, read_catalog
from registry.core import settings

DOC = "fuzhou_new_industrialization_2026.yml"


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(settings.POLICY_DIR, folder)
    return folder


def edit_clause(folder: Path, clause_id: str, **changes: object) -> None:
    path = folder / DOC
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    clause = next(c for c in raw["clauses"] if c["id"] == clause_id)
    for key, value in changes.items():
        if value is None:
            clause.pop(key, None)
        else:
            clause[key] = value
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


def test_catalog_loads_with_quotes_and_documents() -> None:
    catalog = read_catalog()
    assert {d.document_id for d in catalog.documents} >= {"fz-2026-5", "fz-ps-2025"}
    assert all(c.quote for c in catalog.clauses)
    champion = next(c for c in catalog.clauses if c.clause_id == "fz-2026-5.a2.5.single-champion-national")
    assert (champion.amount_rule, str(champion.amount_yuan)) == ("fixed", "1000000")
    assert champion.automatic_ground == "document_mianshen"


def test_overlapping_clauses_share_a_stacking_group() -> None:
    pairs = {(a.clause_id, b.clause_id) for a, b in overlapping_pairs(read_catalog())}
    assert ("fz-2026-5.a5.1.little-giant-match", "fz-ps-2025.1.1.little-giant-first") in pairs
    assert ("fz-2026-5.a5.1.srdi-industrial", "fz-ps-2025.1.1.srdi-first") in pairs
    # 规上 and 规下 variants of the 高企 clause exclude each other: not an overlap
    assert ("fz-ps-2025.1.1.hitech-above", "fz-ps-2025.1.1.hitech-below") not in pairs


def test_unknown_event_type_is_refused(policy_dir: Path) -> None:
    edit_clause(policy_dir, "fz-2026-5.a2.5.single-champion-national",
                trigger={"event_type": "champion", "level": "national", "actions": ["granted"]})
    with pytest.raises(CatalogError, match=rf"{DOC}, clause fz-2026-5.a2.5.single-champion-national, "
                                           r"field 'trigger.event_type': unknown event type 'champion'"):
        read_catalog(policy_dir)


def test_missing_quote_is_refused(policy_dir: Path) -> None:
    edit_clause(policy_dir, "fz-2026-5.a5.1.srdi-industrial", quote=None)
    with pytest.raises(CatalogError, match=r"clause fz-2026-5.a5.1.srdi-industrial, field 'quote'"):
        read_catalog(policy_dir)


def test_amount_rule_that_does_not_parse_is_refused(policy_dir: Path) -> None:
    edit_clause(policy_dir, "fz-2026-5.a5.1.srdi-industrial", amount={"rule": "about", "yuan": "十万"})
    with pytest.raises(CatalogError, match=r"field 'amount.rule': 'about' does not parse"):
        read_catalog(policy_dir)
    edit_clause(policy_dir, "fz-2026-5.a5.1.srdi-industrial", amount={"rule": "fixed", "yuan": "十万"})
    with pytest.raises(CatalogError, match=r"field 'amount.yuan': '十万' is not an amount in yuan"):
        read_catalog(policy_dir)


def test_overlap_without_shared_stacking_group_is_refused(policy_dir: Path) -> None:
    edit_clause(policy_dir, "fz-2026-5.a5.1.srdi-industrial", stacking_group="something.else")
    with pytest.raises(CatalogError, match=r"field 'stacking_group': can fire on the same event as "
                                           r"fz-ps-2025.1.1.srdi-first"):
        read_catalog(policy_dir)


def test_committed_catalog_page_is_generated_from_the_catalog() -> None:
    from registry.catalog.report import catalog_page

    page = settings.REPO_ROOT / "docs" / "policy-catalog.md"
    assert page.read_text(encoding="utf-8") == catalog_page(read_catalog()), (
        "docs/policy-catalog.md is stale: run `registry policies --page docs/policy-catalog.md`")


def test_catalog_page_lists_unautomated_sentences_and_overlaps() -> None:
    from registry.catalog.report import catalog_page

    page = catalog_page(read_catalog())
    assert "非事件触发的奖励条款" in page
    assert "| fz-2026-5.a5.1.little-giant-match | fz-ps-2025.1.1.little-giant-first | fz.little_giant |" in page
