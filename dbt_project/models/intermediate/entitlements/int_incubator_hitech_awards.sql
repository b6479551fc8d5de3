-- Awards paid to an incubator for its tenants (rule per_incubated_hitech, Xiamen 二):
-- 在孵或当年毕业企业上年度首次获得国家高新技术企业认定，按照每家企业20万元的标准给予孵化器一次性奖励.
-- The trigger is the tenant's first-ever 高企 grant; the incubator (the firm paid) must be a
-- 市级及以上孵化器 on that date, have hosted the tenant (an incubated_firm record dated no later
-- than the end of that year), and have an assessment of at least the clause's min_assessment
-- for that year. The award year is the year after the grant (上年度), which is what the
-- clause's yearly cap counts against.
with clauses as (
    select c.*
    from {{ ref('stg_policy__clauses') }} as c
    where c.amount_rule = 'per_incubated_hitech'
),

tenancies as (
    select
        uscc as incubator_uscc,
        related_uscc as tenant_uscc,
        min(effective_date) as effective_date
    from {{ ref('int_events_in_force') }}
    where event_type = 'incubated_firm' and action in ('granted', 'renewed') and {{ changed_firms_only('uscc') }}
    group by uscc, related_uscc
),

first_hitech as (
    select e.*
    from {{ ref('int_events_in_force') }} as e
    where
        e.event_type = 'hitech'
        and e.action = 'granted'
        and e.uscc in (select tenant_uscc from tenancies)
        and not exists (
            select 1
            from {{ ref('int_events_in_force') }} as earlier
            where
                earlier.uscc = e.uscc
                and earlier.event_type = 'hitech'
                and earlier.action in ('granted', 'renewed')
                and earlier.effective_date < e.effective_date
        )
),

assessments as (
    select
        uscc,
        fiscal_year,
        case program when 'excellent' then 4 when 'good' then 3 when 'pass' then 2 else 1 end as grade
    from {{ ref('int_events_in_force') }}
    where event_type = 'incubator_assessment' and {{ changed_firms_only('uscc') }}
)

select
    c.clause_id,
    c.document_id,
    h.event_id as trigger_event_id,
    p.uscc,
    p.firm_name,
    p.city,
    h.event_type as trigger_event_type,
    h.level as trigger_level,
    h.action as trigger_action,
    h.program as trigger_program,
    h.effective_date as trigger_date,
    cast(extract(year from h.effective_date) as integer) + 1 as trigger_year,
    cast(null as decimal(18, 2)) as trigger_amount,
    cast(null as integer) as trigger_rank,
    true as is_first_time,
    cast(null as {{ dbt.type_string() }}) as scale_status,
    true as is_in_scope,
    true as conditions_met,
    cast(null as {{ dbt.type_string() }}) as unmet_conditions,
    c.amount_rule,
    cast(null as decimal(38, 6)) as base_amount,
    c.amount_yuan as entitled_amount,
    false as is_cap,
    h.uscc as beneficiary_of_uscc
from clauses as c
inner join {{ ref('stg_policy__documents') }} as d on d.document_id = c.document_id
inner join first_hitech as h on h.effective_date between c.effective_from and c.effective_to
inner join tenancies as t
    on
        t.tenant_uscc = h.uscc
        and cast(extract(year from t.effective_date) as integer) <= cast(extract(year from h.effective_date) as integer)
inner join {{ ref('int_firm_profiles') }} as p on p.uscc = t.incubator_uscc and p.city = d.city
where
    exists (
        select 1
        from {{ ref('int_designation_spells') }} as s
        where
            s.uscc = t.incubator_uscc
            and s.event_type = 'incubator'
            and {{ spell_valid_on('h.effective_date') }}
    )
    and exists (
        select 1
        from assessments as a
        where
            a.uscc = t.incubator_uscc
            and a.fiscal_year = cast(extract(year from h.effective_date) as integer)
            and a.grade >= case c.min_assessment when 'excellent' then 4 when 'good' then 3 when 'pass' then 2 else 1 end
    )
