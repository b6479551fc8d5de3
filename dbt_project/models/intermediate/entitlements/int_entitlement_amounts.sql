-- The amount each triggered clause grants, by its amount rule (policies/README.md):
--   fixed / up_to       the catalog amount (不超过 X is planned at X and flagged as a cap);
--   percent_of_trigger  X% of the triggering fact's own amount (a grant actually paid, an
--                       investment, a loan), optionally "不超过 X%" (planned at X, flagged);
--   percent_of_related  X% of a related fact: the grant paid for this designation (dated a
--                       year before to three years after the trigger) or the same fiscal
--                       year's figure (e.g. R&D spend);
--   revenue_growth      a fixed award when revenue of the year after 升规 grew by at least
--                       the given percent over the 升规 year (Xiamen 一);
--   contribution        Xiamen 综合经济贡献: whole units of last year's level and of the
--                       year's increase.
-- Per-award caps apply here; yearly caps and budgets later, in int_entitlement_caps and
-- fct_entitlements. A rule whose data has not arrived gives a null amount (awaiting_data);
-- a rule whose data shows no award gives amount_unmet.
with conditions as (
    select
        k.*,
        c.amount_rule,
        c.amount_yuan,
        c.percent,
        c.percent_is_cap,
        c.min_base_yuan,
        c.cap_yuan,
        c.min_growth_percent,
        c.weight_revenue,
        c.weight_profit,
        c.weight_wages,
        c.min_contribution_yuan,
        c.stock_unit_yuan,
        c.stock_unit_award_yuan,
        c.increase_unit_yuan,
        c.increase_unit_award_yuan
    from {{ ref('int_clause_conditions') }} as k
    inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = k.clause_id
    where k.conditions_met and {{ changed_firms_only('k.uscc') }}
),

related_bases as (
    select
        clause_id,
        trigger_event_id,
        sum(amount) as base_amount
    from {{ ref('int_entitlement_related_facts') }}
    group by clause_id, trigger_event_id
),

growth as (
    select
        k.clause_id,
        k.trigger_event_id,
        base_year.revenue as base_revenue,
        next_year.revenue as next_revenue
    from conditions as k
    left join {{ ref('int_annual_reports') }} as base_year
        on base_year.uscc = k.uscc and base_year.fiscal_year = k.trigger_year
    left join {{ ref('int_annual_reports') }} as next_year
        on next_year.uscc = k.uscc and next_year.fiscal_year = k.trigger_year + 1
    where k.amount_rule = 'revenue_growth'
),

contribution as (
    select
        k.clause_id,
        k.trigger_event_id,
        this_year.revenue * k.weight_revenue + this_year.profit * k.weight_profit
        + this_year.wages * k.weight_wages as this_contribution,
        last_year.revenue * k.weight_revenue + last_year.profit * k.weight_profit
        + last_year.wages * k.weight_wages as last_contribution
    from conditions as k
    inner join {{ ref('int_annual_reports') }} as this_year
        on this_year.uscc = k.uscc and this_year.fiscal_year = k.trigger_year
    left join {{ ref('int_annual_reports') }} as last_year
        on last_year.uscc = k.uscc and last_year.fiscal_year = k.trigger_year - 1
    where k.amount_rule = 'contribution' and k.trigger_event_id = this_year.report_event_id
),

based as (
    select
        k.*,
        case
            when k.amount_rule = 'percent_of_trigger' then k.trigger_amount
            when k.amount_rule = 'percent_of_related' then rb.base_amount
            when k.amount_rule = 'revenue_growth' then g.next_revenue
            when k.amount_rule = 'contribution' then ct.this_contribution
        end as base_amount,
        g.base_revenue,
        g.next_revenue,
        ct.this_contribution,
        ct.last_contribution,
        k.amount_rule = 'contribution' and ct.trigger_event_id is null as is_superseded_report
    from conditions as k
    left join related_bases as rb on rb.clause_id = k.clause_id and rb.trigger_event_id = k.trigger_event_id
    left join growth as g on g.clause_id = k.clause_id and g.trigger_event_id = k.trigger_event_id
    left join contribution as ct on ct.clause_id = k.clause_id and ct.trigger_event_id = k.trigger_event_id
),

priced as (
    select
        *,
        case
            when amount_rule in ('fixed', 'up_to') then amount_yuan
            when amount_rule in ('percent_of_trigger', 'percent_of_related')
                then cast(round(base_amount * percent * 0.01, 2) as decimal(18, 2))
            when amount_rule = 'revenue_growth' and base_revenue > 0
                and (next_revenue - base_revenue) * 100 >= base_revenue * min_growth_percent
                then amount_yuan
            when amount_rule = 'contribution' and this_contribution >= min_contribution_yuan
                and this_contribution > last_contribution
                then cast(
                    floor(last_contribution / stock_unit_yuan) * stock_unit_award_yuan
                    + floor((this_contribution - last_contribution) / increase_unit_yuan) * increase_unit_award_yuan
                    as decimal(18, 2))
        end as uncapped_amount,
        case
            when amount_rule in ('percent_of_trigger', 'percent_of_related') and base_amount is not null
                and min_base_yuan is not null and base_amount < min_base_yuan
                then '基数未达' || cast(min_base_yuan as {{ dbt.type_string() }}) || '元'
            when amount_rule = 'revenue_growth' and base_revenue is not null and next_revenue is not null
                and not (base_revenue > 0 and (next_revenue - base_revenue) * 100 >= base_revenue * min_growth_percent)
                then '纳统后次年营业收入增长未达' || cast(min_growth_percent as {{ dbt.type_string() }}) || '%'
            when amount_rule = 'contribution' and this_contribution is not null
                and (this_contribution < min_contribution_yuan
                    or this_contribution <= last_contribution)
                then '综合经济贡献未达门槛或未保持增长'
            when is_superseded_report then '该年度报表已被更新的报表取代'
        end as amount_unmet
    from based
)

select
    clause_id,
    trigger_event_id,
    uscc,
    amount_rule,
    base_amount,
    base_revenue,
    next_revenue,
    this_contribution,
    last_contribution,
    amount_unmet,
    case when amount_unmet is null then
        cast(case
            when cap_yuan is not null and uncapped_amount > cap_yuan then cap_yuan
            else uncapped_amount
        end as decimal(18, 2))
    end as entitled_amount,
    amount_rule = 'up_to' or percent_is_cap
    or coalesce(cap_yuan is not null and uncapped_amount >= cap_yuan, false) as is_cap
from priced
