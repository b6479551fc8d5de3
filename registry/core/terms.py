"""The labels people read for the registry's codes, one place for each (Chinese and English).

The codes themselves are the vocabulary (`registry.core.vocabulary`: event types, actions, levels,
programs) and the catalog's declarations (`registry.catalog.model`, `registry.catalog.amount_rules`);
city names come from `policies/scopes.yml` through `reference.cities`. What is labelled here: the
kinds of list lines, the statuses of an entitlement, the reasons of a line, the scale status.
Exports, explain, reports and the catalog page all read these; none keeps a copy.
"""

from __future__ import annotations

from registry.core import vocabulary

KIND = {"award": ("奖励", "award"), "reversal": ("冲销", "reversal")}
STATUS = {
    "payable": ("应兑付", "payable"),
    "superseded": ("被同组更高奖励取代（就高不重复）", "superseded by a higher award of its group (就高不重复)"),
    "already_granted": ("已享受过（该条款每…一次）", "already granted (the clause pays this once)"),
    "awaiting_grant": ("等待上级奖补到账", "waiting for the grant to be paid"),
    "awaiting_data": ("等待所需数据", "waiting for data"),
    "needs_application": ("需申报", "needs an application"),
    "revoked": ("认定已被撤销", "the designation was revoked"),
    "cap_reached": ("已达年度上限", "yearly cap reached"),
}
# A line's reason_code (registry.ledger.append.REASONS) -> its short name; status codes read as the status.
REASON = {
    "new": ("新增", "new"), "relisted": ("重新列支", "listed again"), "raised": ("金额调增", "raised"),
    "lowered": ("金额调减", "lowered"), "retracted": ("来源撤回记录", "record retracted"),
    "gone": ("不再满足条件", "no longer qualifies"), "not_payable": ("不再列支", "no longer listed"),
    **{code: term for code, term in STATUS.items() if code != "payable"},
}
SCALE = {"above": ("规上", "above designated size"), "below": ("规下", "below designated size")}
LEVEL = {code: (term, code) for code, term in vocabulary.LEVELS.items()}


def label(table: dict[str, tuple[str, str]], code: str | None, lang: str = "zh") -> str:
    """The label of `code` in `table`; the code itself when it has none (never an empty cell)."""
    if code is None:
        return ""
    found = table.get(code)
    return (found[0] if lang == "zh" else found[1]) if found else code


def labels(table: dict[str, tuple[str, str]], lang: str = "zh") -> dict[str, str]:
    return {code: label(table, code, lang) for code in table}
