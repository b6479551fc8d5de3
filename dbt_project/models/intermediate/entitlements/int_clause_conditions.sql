-- Each triggered clause with every condition the catalog can set evaluated on the trigger
-- date, and the reasons when one fails:
--   首次 (first_time): no earlier grant or renewal of the same designation (type, level and,
--     for programs such as rankings, program), ever, before the policy window included;
--   规上/规下 (scale): the firm's scale_up status on the trigger date;
--   industry scope: from the firm's industry code; min_tier: the 梯度 tier held that day;
--   rank_at_most / rank_above: the published rank; min_amount_yuan: the fact's own amount
--     (e.g. 技改投资额 >= 100万); within_years_after_scale_up: the fact's year is the 升规 year
--     or at most N years after.
with triggers as (
    select
        t.*,
        c.first_time,
        c.scale_condition,
        c.industry_scope,
        c.min_tier,
        c.rank_at_most,
        c.rank_above,
        c.min_amount_yuan,
        c.within_years_after_scale_up,
        c.trigger_program as clause_program,
        tiers.tier_rank as min_tier_rank
    from {{ ref('int_clause_triggers') }} as t
    inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = t.clause_id
    left join {{ ref('stg_reference__event_types') }} as tiers on tiers.event_type = c.min_tier
    where {{ changed_firms_only('t.uscc') }}
),

first_scale_up as (
    select
        uscc,
        min(cast(extract(year from effective_date) as integer)) as scale_up_year
    from {{ ref('int_events_in_force') }}
    where event_type = 'scale_up' and action in ('granted', 'renewed') and {{ changed_firms_only('uscc') }}
    group by uscc
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
                and (t.clause_program is null or earlier.program = t.clause_program)
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
                    and {{ spell_valid_on('t.trigger_date') }}
            ) then 'above'
            else 'below'
        end as scale_status,
        t.industry_scope is null or exists (
            select 1
            from {{ ref('int_firm_industry_scopes') }} as fs
            where fs.uscc = t.uscc and fs.scope = t.industry_scope
        ) as is_in_scope,
        t.min_tier is null or exists (
            select 1
            from {{ ref('int_designation_spells') }} as s
            where
                s.uscc = t.uscc
                and s.tier_rank >= t.min_tier_rank
                and {{ spell_valid_on('t.trigger_date') }}
        ) as holds_min_tier,
        su.scale_up_year
    from triggers as t
    left join first_scale_up as su on su.uscc = t.uscc
),

checked as (
    select
        *,
        not first_time or is_first_time as ok_first_time,
        scale_condition is null or scale_condition = scale_status as ok_scale,
        rank_at_most is null or coalesce(trigger_rank <= rank_at_most, false) as ok_rank_at_most,
        rank_above is null or coalesce(trigger_rank > rank_above, false) as ok_rank_above,
        min_amount_yuan is null or coalesce(trigger_amount >= min_amount_yuan, false) as ok_min_amount,
        within_years_after_scale_up is null or coalesce(
            trigger_year between scale_up_year and scale_up_year + within_years_after_scale_up, false
        ) as ok_scale_up_years
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
    trigger_program,
    trigger_date,
    trigger_year,
    trigger_amount,
    trigger_rank,
    is_first_time,
    scale_status,
    is_in_scope,
    ok_first_time and ok_scale and is_in_scope and holds_min_tier and ok_rank_at_most and ok_rank_above
    and ok_min_amount and ok_scale_up_years as conditions_met,
    nullif(concat_ws('; ',
        case when not ok_first_time then '非首次认定' end,
        case when not ok_scale
            then '认定日规模状态为' || case scale_status when 'above' then '规上' else '规下' end end,
        case when not is_in_scope then '行业不在适用范围（' || industry_scope || '）' end,
        case when not holds_min_tier then '当日未持有' || min_tier || '及以上梯度' end,
        case when not (ok_rank_at_most and ok_rank_above) then '名次不在本条款范围' end,
        case when not ok_min_amount then '金额未达门槛' end,
        case when not ok_scale_up_years then '不在升规当年及之后' || cast(within_years_after_scale_up as {{ dbt.type_string() }}) || '年内' end
    ), '') as unmet_conditions
from checked
