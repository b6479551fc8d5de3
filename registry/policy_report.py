"""`registry policies`: the catalog as a table people read."""

from __future__ import annotations

from registry.catalog import AUTOMATIC_GROUNDS, Catalog, Clause


def amount_text(clause: Clause) -> str:
    if clause.amount_rule == "fixed":
        return f"{clause.amount_yuan:,.0f} 元"
    if clause.amount_rule == "up_to":
        return f"不超过 {clause.amount_yuan:,.0f} 元"
    cap = f"，最高 {clause.cap_yuan:,.0f} 元" if clause.cap_yuan else ""
    return f"{clause.grant_event_type}[{clause.grant_program}] 实际到账额的 {clause.percent:g}%{cap}"


def policies_text(catalog: Catalog) -> str:
    out = [catalog.summary()]
    for doc in catalog.documents:
        status = "征求意见稿（草案）" if doc.status == "draft" else "正式"
        out.append(f"\n{doc.title} {doc.doc_number or ''} [{doc.city}, {status}, "
                   f"{doc.effective_from} ~ {doc.effective_to}]")
        for clause in (c for c in catalog.clauses if c.document_id == doc.document_id):
            out.append(f"  {clause.clause_id}  {clause.article}  {amount_text(clause)}  "
                       f"-> {AUTOMATIC_GROUNDS[clause.automatic_ground]}")
    return "\n".join(out)
