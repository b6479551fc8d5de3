-- 应享奖励: every award a clause grants a firm on the list date, with the decision on it.
-- Rules applied here, in order:
--   1. conditions unmet -> not an entitlement (kept in int_entitlement_candidates for audit);
--   2. 不可重复享受: a clause pays a firm once, on its earliest qualifying trigger;
--   3. percent-of-grant awards wait until the grant is recorded (awaiting_grant);
--   4. 就高不重复: among the clauses of one stacking group fired by the same event, the highest
--      single award is paid (ties: an in-force document before a draft, then clause id);
--   5. an award whose designation was later revoked loses its ground (revoked);
--   6. clauses outside the automatic list are kept but marked needs_application.
-- entitlement_id is derived from (clause, firm, triggering event) only, so the same facts
-- always give the same id.
with qualified as (
    select
        c.*,
        cl.stacking_group,
        cl.repeatable,
        cl.on_automatic_list,
        cl.automatic_ground,
        d.is_draft,
        coalesce(s.end_reason = 'revoked', false) as is_revoked,
        row_number() over (
            partition by c.clause_id, c.uscc
            order by c.trigger_date, c.trigger_event_id
        ) as occurrence
    from {{ ref('int_entitlement_candidates') }} as c
    inner join {{ ref('stg_policy__clauses') }} as cl on cl.clause_id = c.clause_id
    inner join {{ ref('stg_policy__documents') }} as d on d.document_id = c.document_id
    left join {{ ref('int_designation_spells') }} as s on s.start_event_id = c.trigger_event_id
    where c.conditions_met
),

eligible as (
    select
        *,
        repeatable or occurrence = 1 as is_first_occurrence,
        not is_revoked and entitled_amount is not null as is_rankable
    from qualified
),

ranked as (
    select
        *,
        case when is_first_occurrence and is_rankable then
            row_number() over (
                partition by
                    uscc,
                    coalesce(stacking_group, clause_id),
                    trigger_event_id,
                    is_first_occurrence and is_rankable
                order by entitled_amount desc, is_draft, clause_id
            )
        end as stacking_rank
    from eligible
)

select
    substring({{ dbt.hash(dbt.concat(["clause_id", "'|'", "uscc", "'|'", "trigger_event_id"])) }}, 1, 16)
        as entitlement_id,
    uscc,
    firm_name,
    city,
    clause_id,
    document_id,
    trigger_event_id,
    trigger_event_type,
    trigger_level,
    trigger_action,
    trigger_date,
    cast(extract(year from trigger_date) as integer) as award_year,
    amount_rule,
    grant_base_amount,
    entitled_amount,
    is_cap,
    is_draft,
    scale_status,
    coalesce(stacking_group, clause_id) as stacking_group,
    stacking_rank,
    on_automatic_list,
    automatic_ground,
    case
        when not is_first_occurrence then 'already_granted'
        when is_revoked then 'revoked'
        when entitled_amount is null then 'awaiting_grant'
        when stacking_rank > 1 then 'superseded'
        when not on_automatic_list then 'needs_application'
        else 'payable'
    end as status,
    cast({{ as_of_date() }} as date) as as_of_date
from ranked
