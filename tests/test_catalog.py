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
    assert (champion.amount_rule, str(champion.param("amount_yuan"))) == ("fixed", "1000000")
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


# ---------------------------------------------------------------- declarations (issue "Pay what the text says")

def test_every_clause_declares_what_it_repeats_over_and_every_cap_what_it_caps() -> None:
    from registry.catalog.model import CAP_PER, REPEAT_PER

    catalog = read_catalog()
    assert all(c.repeat_per in REPEAT_PER for c in catalog.clauses)
    assert all(cap.per in CAP_PER for c in catalog.clauses for cap in c.caps)
    assert all(cap.per in CAP_PER for cap in catalog.annual_caps)


def test_a_clause_without_repeat_per_or_a_cap_without_per_is_refused(policy_dir: Path) -> None:
    edit_clause(policy_dir, "fz-2026-5.a5.1.srdi-industrial", repeat_per=None)
    with pytest.raises(CatalogError, match=r"clause fz-2026-5.a5.1.srdi-industrial, field 'repeat_per': is required"):
        read_catalog(policy_dir)
    edit_clause(policy_dir, "fz-2026-5.a5.1.srdi-industrial", repeat_per="firm", repeatable=True)
    with pytest.raises(CatalogError, match=r"field 'repeatable': is replaced by repeat_per"):
        read_catalog(policy_dir)
    edit_clause(policy_dir, "fz-2026-5.a5.1.srdi-industrial", repeatable=None,
                amount={"rule": "fixed", "yuan": 100000, "caps": [{"yuan": 100000}]})
    with pytest.raises(CatalogError, match=r"field 'amount.caps\[0\].per': is required"):
        read_catalog(policy_dir)


def test_a_program_outside_the_closed_vocabulary_is_refused(policy_dir: Path) -> None:
    edit_clause(policy_dir, "fz-2026-5.a2.3.2.first-set-match",
                trigger={"event_type": "provincial_grant", "program": "首台套", "actions": ["granted"]})
    with pytest.raises(CatalogError, match=r"field 'trigger.program': unknown program '首台套' for provincial_grant; "
                                           r"known: \['digital_benchmark'"):
        read_catalog(policy_dir)


def test_grounds_follow_the_documents_own_mianshen_sentence() -> None:
    catalog = read_catalog()
    by_id = {c.clause_id: c for c in catalog.clauses}
    assert by_id["fz-2026-5.a2.1.tech-center-national"].automatic_ground == "document_mianshen"
    assert by_id["fz-2026-5.a2.3.2.first-set-match"].automatic_ground == "document_excludes"
    assert by_id["fz-2026-5.a3.4.5g-factory"].automatic_ground == "direct_fast"
    sentences = [(u.article, u.reason, u.ground) for u in catalog.unautomated if u.document_id == "fz-2026-5"]
    # 附件2 三.1 and 七: 免申即享 by the document, the registry lacks the data (not "needs an application")
    assert ("附件2 三.1", "mianshen_missing_data", "document_mianshen") in sentences
    assert sum(1 for a, r, g in sentences if a == "附件2 七" and (r, g) == ("mianshen_missing_data",
                                                                      "document_mianshen")) == 2
    assert ("附件2 六", "selected_by_review", "document_excludes") in sentences
    covered = [u for u in catalog.unautomated if u.ground == "document_mianshen"]
    assert covered and all(u.reason == "mianshen_missing_data" and u.missing_data for u in covered)


def test_a_sentence_the_mianshen_sentence_covers_cannot_claim_an_application(policy_dir: Path) -> None:
    path = policy_dir / DOC
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(u for u in raw["not_event_triggered"] if u["article"] == "附件2 三.1")
    entry["reason"], entry["missing_data"] = "needs_application", None
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"the document says 免申即享 for 附件2 三.1"):
        read_catalog(policy_dir)


def test_every_amount_rule_has_its_sql_and_every_rule_file_a_declaration() -> None:
    from registry.catalog import amount_rules

    folder = settings.DBT_PROJECT_DIR / "macros" / "amount_rules"
    files = {p.stem for p in folder.glob("*.sql")} - {"registry"}
    with_sql = {name for name, rule in amount_rules.RULES.items() if rule.sql_model is None}
    assert files == with_sql, "each rule of registry/catalog/amount_rules.py has macros/amount_rules/<rule>.sql"
    for name in with_sql:
        text = (folder / f"{name}.sql").read_text(encoding="utf-8")
        assert f"macro amount_rule__{name}(conditions)" in text
    for name, rule in amount_rules.RULES.items():
        if rule.sql_model is not None:
            assert list(settings.DBT_PROJECT_DIR.glob(f"models/**/{rule.sql_model}.sql")), name


def test_document_windows_are_defended_by_their_text() -> None:
    import datetime as dt

    docs = {d.document_id: d for d in read_catalog().documents}
    xiamen = docs["xm-kf-2025"]  # 自发布之日起实施; cites 工信部联科〔2025〕110号 (issued late May 2025)
    assert xiamen.effective_from >= dt.date(2025, 5, 27) and xiamen.effective_from_basis == "cited_document_lower_bound"
    assert xiamen.effective_to == dt.date(xiamen.effective_from.year + 3, xiamen.effective_from.month,
                                          xiamen.effective_from.day) - dt.timedelta(days=1)  # 有效期3年
    fz_draft = docs["fz-ps-2025"]  # 本文件自2025年5月XX日起施行
    assert fz_draft.effective_from == dt.date(2025, 5, 31) and fz_draft.effective_from_basis == "stated_month"
    assert "现行政策已有明确规定" in (fz_draft.defers_quote or "")
