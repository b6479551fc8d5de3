-- Awards paid to an incubator for its tenants (rule per_incubated_hitech, Xiamen 二): this model is
-- the rule's SQL (registry/catalog/amount_rules.py).
-- 在孵或当年毕业企业上年度首次获得国家高新技术企业认定，按照每家企业20万元的标准给予孵化器一次性奖励.
-- The trigger is the tenant's first-ever 高企 grant, on date D in year Y; the incubator (the firm
-- paid) must be a 市级及以上孵化器 on D, have an assessment of at least the clause's min_assessment
-- for Y, and the tenant must be 在孵或当年毕业 there: a tenancy (incubated_firm granted/renewed,
-- ended by `expired` = graduation or `revoked` = removal) valid on D, or one that ended by
-- graduation (`expired`) during Y. A tenancy that ended before Y, or was revoked before D, pays
-- nothing. One award per tenant (repeat_per tenant): when several incubators qualify, the one that
-- hosted the tenant on D, else the one it graduated from in Y (ties: the incubator's uscc). The
-- award year is the year after the grant (上年度), which the clause's yearly cap counts against.
with clauses as (
    select c.*
    from {{ ref('stg_policy__clauses') }} as c
    where c.amount_rule = 'per_incubated_hitech'
),

tenancy_events as (
    select
        uscc as incubator_uscc,
        related_uscc as tenant_uscc,
        action,
        effective_date,
        lead(effective_date) over (
            partition by uscc, related_uscc
            order by effective_date, case when action in ('granted', 'renewed') then 0 else 1 end, event_id
        ) as ended_on,
        lead(action) over (
            partition by uscc, related_uscc
            order by effective_date, case when action in ('granted', 'renewed') then 0 else 1 end, event_id
        ) as end_action
    from {{ ref('int_events_in_force') }}
    where event_type = 'incubated_firm' and {{ changed_firms_only('uscc') }}
),

tenancies as (
    select incubator_uscc, tenant_uscc, effective_date as valid_from, ended_on, end_action
    from tenancy_events
    where action in ('granted', 'renewed')
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
),

qualifying as (
    select
        c.clause_id,
        c.document_id,
        c.amount_rule,
        c.amount_yuan,
        h.event_id,
        h.uscc as tenant_uscc,
        h.event_type,
        h.level,
        h.action,
        h.program,
        h.document_ref,
        h.effective_date,
        p.uscc,
        p.firm_name,
        p.city,
        max(case when t.ended_on is null or t.ended_on > h.effective_date then 1 else 0 end) as hosted_on_date
    from clauses as c
    inner join {{ ref('stg_policy__documents') }} as d on d.document_id = c.document_id
    inner join first_hitech as h on h.effective_date between c.effective_from and c.effective_to
    inner join tenancies as t
        on
            t.tenant_uscc = h.uscc
            and t.valid_from <= h.effective_date
            and (
                -- 在孵: the tenancy holds on the 高企 date
                t.ended_on is null or t.ended_on > h.effective_date
                -- 当年毕业: it ended by graduation during the 高企 year
                or (
                    t.end_action = 'expired'
                    and cast(extract(year from t.ended_on) as integer) = cast(extract(year from h.effective_date) as integer)
                )
            )
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
    group by
        c.clause_id, c.document_id, c.amount_rule, c.amount_yuan, h.event_id, h.uscc, h.event_type, h.level,
        h.action, h.program, h.document_ref, h.effective_date, p.uscc, p.firm_name, p.city
),

-- one award per tenant: the incubator that hosted it on the 高企 date, else the one it graduated
-- from that year (ties: the incubator's uscc)
chosen as (
    select
        *,
        row_number() over (
            partition by clause_id, event_id order by hosted_on_date desc, uscc
        ) as choice
    from qualifying
)

select
    clause_id,
    document_id,
    event_id as trigger_event_id,
    uscc,
    firm_name,
    city,
    event_type as trigger_event_type,
    level as trigger_level,
    action as trigger_action,
    program as trigger_program,
    document_ref as trigger_document_ref,
    effective_date as trigger_date,
    cast(extract(year from effective_date) as integer) + 1 as trigger_year,
    cast(null as decimal(18, 2)) as trigger_amount,
    cast(null as integer) as trigger_rank,
    true as is_first_time,
    cast(null as {{ dbt.type_string() }}) as scale_status,
    true as is_in_scope,
    true as conditions_met,
    cast(null as {{ dbt.type_string() }}) as unmet_conditions,
    amount_rule,
    cast(null as decimal(38, 6)) as base_amount,
    amount_yuan as entitled_amount,
    false as is_cap,
    tenant_uscc as beneficiary_of_uscc
from chosen
where choice = 1
