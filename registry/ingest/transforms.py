"""Registered row transforms: the small amount of per-source Python a spec cannot express.

A spec names one with `transform: NAME`. It runs after the spec's mapping (columns, maps, converters,
constants) and before the contract check, on the row's contract texts plus the spec's `extras`:

    def transform(values: dict[str, str | None], extras: dict[str, str | None]) -> dict[str, str | None]

It returns the (changed) contract texts, or raises `RowProblem(field, reason)` to quarantine the row.
Keep each one short, pure and documented with the publication that needs it; register it with
`@register("name")`. Everything a spec can say (columns, value maps, units, dates, constants) belongs
in the spec, not here.
"""

from __future__ import annotations

from collections.abc import Callable

from registry.ingest.errors import RowProblem

Transform = Callable[[dict[str, str | None], dict[str, str | None]], dict[str, str | None]]
TRANSFORMS: dict[str, Transform] = {}


def register(name: str) -> Callable[[Transform], Transform]:
    def add(func: Transform) -> Transform:
        if name in TRANSFORMS:
            raise ValueError(f"transform {name!r} is registered twice")
        TRANSFORMS[name] = func
        return func

    return add


@register("revocation_notice")
def revocation_notice(values: dict[str, str | None], extras: dict[str, str | None]) -> dict[str, str | None]:
    """撤销/撤回公告: which date a row's event takes effect on depends on what the row does.

    * 撤销 (`revoked`): the qualification ends on the revocation date (`extras.revoked_on`, 撤销日期).
    * 撤回 (`retracted`): the agency withdraws a record it published in error. The models match a
      retraction to the record it withdraws by firm, type, level and *that record's* effective date,
      so the event takes the original record's date (`extras.original_date`, 原认定日期).

    A row whose date for its own action is missing is quarantined rather than given the other date:
    a revocation dated from the original grant would erase a designation that was valid for years.
    """
    out = dict(values)
    if values.get("action") == "retracted":
        if not extras.get("original_date"):
            raise RowProblem("effective_date", "a 撤回 row needs 原认定日期 (the date of the record it withdraws)")
        out["effective_date"] = extras["original_date"]
    elif values.get("action") == "revoked":
        if not extras.get("revoked_on"):
            raise RowProblem("effective_date", "a 撤销 row needs 撤销日期 (when the qualification ends)")
        out["effective_date"] = extras["revoked_on"]
    return out
