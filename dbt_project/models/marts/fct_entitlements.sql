-- 应享奖励: every award a clause grants a firm on the list date, with the decision on it
-- (int_entitlement_decisions, int_entitlement_caps) and, where a yearly budget is declared for
-- the clause's budget group and the year's awards exceed it, the pro-rata payable amount
-- (不足时按比例兑现), rounded down to the fen so the year never exceeds its budget.
-- entitlement_id is derived from (clause, firm, triggering event) only, so the same facts
-- always give the same id.
-- Incremental by firm (macros/changed_firms.sql): a night recomputes the changed firms, and every
-- row of a budget group that has a budget, since one firm's award changes every firm's share.
{{ config(unique_key='entitlement_id') }}
with decided as (
    select
        d.*,
        cp.capped_amount,
        cp.cap_group
    from {{ ref('int_entitlement_decisions') }} as d
    left join {{ ref('int_entitlement_caps') }} as cp
        on cp.clause_id = d.clause_id and cp.trigger_event_id = d.trigger_event_id and cp.uscc = d.uscc
    where
        {{ changed_firms_only('d.uscc') }}
        or d.budget_group in (select budget_group from {{ ref('stg_policy__budgets') }})
),

statused as (
    select
        *,
        case
            when pre_cap_status is not null then pre_cap_status
            when stacking_rank > 1 then 'superseded'
            when capped_amount = 0 then 'cap_reached'
            when not on_automatic_list then 'needs_application'
            else 'payable'
        end as status,
        case when stacking_rank = 1 and pre_cap_status is null then capped_amount else entitled_amount end
            as award_amount
    from decided
),

budget_use as (
    select
        s.budget_group,
        s.trigger_year,
        sum(s.award_amount) as claimed,
        b.budget_yuan
    from statused as s
    inner join {{ ref('stg_policy__budgets') }} as b
        on b.budget_group = s.budget_group and b.budget_year = s.trigger_year
    where s.status = 'payable'
    group by s.budget_group, s.trigger_year, b.budget_yuan
)

select
    substring({{ dbt.hash(dbt.concat(["s.clause_id", "'|'", "s.uscc", "'|'", "s.trigger_event_id"])) }}, 1, 16)
        as entitlement_id,
    s.uscc,
    s.firm_name,
    s.city,
    s.clause_id,
    s.document_id,
    s.trigger_event_id,
    s.trigger_event_type,
    s.trigger_level,
    s.trigger_action,
    s.trigger_date,
    s.trigger_year as award_year,
    s.amount_rule,
    cast(s.base_amount as decimal(18, 2)) as base_amount,
    cast(s.award_amount as decimal(18, 2)) as entitled_amount,
    cast(case
        when s.status <> 'payable' then 0
        when bu.claimed > bu.budget_yuan
            then {{ prorata_floor_fen('s.award_amount', 'bu.budget_yuan', 'bu.claimed') }}
        else s.award_amount
    end as decimal(18, 2)) as payable_amount,
    s.is_cap,
    s.is_draft,
    s.scale_status,
    coalesce(s.stacking_group, s.clause_id) as stacking_group,
    cast(s.stacking_rank as bigint) as stacking_rank,  -- row_number(): bigint on DuckDB, int on Spark
    s.cap_group,
    s.budget_group,
    s.on_automatic_list,
    s.automatic_ground,
    s.status,
    s.beneficiary_of_uscc
from statused as s
left join budget_use as bu on bu.budget_group = s.budget_group and bu.trigger_year = s.trigger_year
