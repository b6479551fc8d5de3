-- Each triggered clause with its conditions evaluated and its amount computed:
--   首次 (first_time): no earlier grant or renewal of the same designation, ever;
--   规上/规下 (scale): the firm's scale_up status on the trigger date;
--   industry scope: from the industry code;
--   amount: fixed; up_to (不超过 X, planned at X); percent_of_grant (X% of the grant actually
--   paid for this designation, dated from a year before to three years after the trigger).
with triggers as (
    select
        t.*,
        c.document_id,
        c.first_time,
        c.scale_condition,
        c.industry_scope,
        c.amount_rule,
        c.amount_yuan,
        c.percent,
        c.grant_event_type,
        c.grant_program,
        c.cap_yuan
    from {{ ref('int_clause_triggers') }} as t
    inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = t.clause_id
),

evaluated as (
    select
        t.*,
        not exists (
            select 1
            from {{ ref('int_events_in_force') }} as earlier
            where
                earlier.uscc = t.uscc
                and earlier.event_type = t.trigger_event_type
                and coalesce(earlier.level, '') = coalesce(t.trigger_level, '')
                and earlier.action in ('granted', 'renewed')
                and earlier.effective_date < t.trigger_date
        ) as is_first_time,
        case
            when exists (
                select 1
                from {{ ref('int_designation_spells') }} as s
                where
                    s.uscc = t.uscc
                    and s.event_type = 'scale_up'
                    and s.valid_from <= t.trigger_date
                    and (s.valid_to is null or s.valid_to > t.trigger_date)
            ) then 'above'
            else 'below'
        end as scale_status,
        t.industry_scope is null or exists (
            select 1
            from {{ ref('int_firm_industry_scopes') }} as fs
            where fs.uscc = t.uscc and fs.scope = t.industry_scope
        ) as is_in_scope,
        (
            select sum(g.amount)
            from {{ ref('int_events_in_force') }} as g
            where
                g.uscc = t.uscc
                and g.event_type = t.grant_event_type
                and g.program = t.grant_program
                and g.effective_date >= cast({{ dbt.dateadd('year', -1, 't.trigger_date') }} as date)
                and g.effective_date < cast({{ dbt.dateadd('year', 3, 't.trigger_date') }} as date)
        ) as grant_base_amount
    from triggers as t
),

priced as (
    select
        *,
        (not first_time or is_first_time)
        and (scale_condition is null or scale_condition = scale_status)
        and is_in_scope as conditions_met,
        case
            when amount_rule in ('fixed', 'up_to') then amount_yuan
            when amount_rule = 'percent_of_grant' and grant_base_amount is not null
                then cast(round(grant_base_amount * percent / 100, 2) as decimal(18, 2))
        end as uncapped_amount
    from evaluated
)

select
    clause_id,
    document_id,
    trigger_event_id,
    uscc,
    firm_name,
    city,
    trigger_event_type,
    trigger_level,
    trigger_action,
    trigger_date,
    is_first_time,
    scale_status,
    is_in_scope,
    conditions_met,
    nullif(concat_ws('; ',
        case when first_time and not is_first_time then '非首次认定' end,
        case when scale_condition is not null and scale_condition <> scale_status
            then '认定日规模状态为' || case scale_status when 'above' then '规上' else '规下' end end,
        case when not is_in_scope then '行业不在适用范围（' || industry_scope || '）' end
    ), '') as unmet_conditions,
    amount_rule,
    grant_base_amount,
    cast(case
        when cap_yuan is not null and uncapped_amount > cap_yuan then cap_yuan
        else uncapped_amount
    end as decimal(18, 2)) as entitled_amount,
    amount_rule = 'up_to' or (cap_yuan is not null and uncapped_amount >= cap_yuan) as is_cap
from priced
