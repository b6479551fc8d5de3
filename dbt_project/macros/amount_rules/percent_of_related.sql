{#- percent_of_related: X% of a related fact — the grant actually received for the designation that
    triggers the clause (在省级奖励的基础上配套 X%), or the same fiscal year's figure (当年研发投入额).

    Which grant belongs to which trigger (design.md: each trigger is matched with its own grant, and
    a clause never pays more than X% of what was actually received in total):
    1. a grant whose document_ref is the document_ref of a designation of the firm (the same event
       type as the trigger) pays for that designation only: it is the base of that trigger when the
       designation triggers the clause, and of no other trigger;
    2. a grant without a document_ref, or whose ref names no designation of the firm, is used for one
       trigger only: the triggers left without a grant of rule 1 take these grants one each, in date
       order (the first such trigger the first such grant, ...); a grant left over (a second payment
       of one award) goes to the latest of those triggers dated on or before it (else the earliest
       after it); a grant counts only when it was paid from a year before to three years after its
       trigger;
    so no grant is counted twice, and a trigger whose grant has not arrived waits (awaiting data).
    A same_fiscal_year base is the firm's figure for the trigger's year: the latest record of that
    year (a later report supersedes an earlier one), never a sum. -#}
{% macro amount_facts__percent_of_related(conditions) -%}
with triggers as (
    select
        k.clause_id,
        k.trigger_event_id,
        k.uscc,
        k.trigger_event_type,
        k.trigger_date,
        k.trigger_year,
        k.trigger_document_ref,
        c.related_event_type,
        c.related_program,
        c.related_window
    from {{ conditions }} as k
    inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = k.clause_id
    where c.amount_rule = 'percent_of_related'
),

related as (
    select
        t.clause_id,
        t.trigger_event_id,
        t.uscc,
        t.trigger_event_type,
        t.trigger_date,
        t.trigger_document_ref,
        t.related_window,
        r.event_id,
        r.amount,
        r.effective_date,
        r.published_date,
        r.document_ref,
        r.fiscal_year
    from triggers as t
    inner join {{ ref('int_events_in_force') }} as r
        on
            r.uscc = t.uscc
            and r.event_type = t.related_event_type
            and (t.related_program is null or r.program = t.related_program)
            and r.action in ('granted', 'renewed')
),

-- the designations (of the trigger's type) each ref names, for rule 1
designation_refs as (
    select distinct d.uscc, d.event_type, d.document_ref
    from {{ ref('int_events_in_force') }} as d
    where d.document_ref is not null and d.action in ('granted', 'renewed')
        and d.uscc in (select uscc from triggers)
),

grants as (
    select
        g.*,
        g.document_ref is not null and exists (
            select 1
            from designation_refs as d
            where d.uscc = g.uscc and d.event_type = g.trigger_event_type and d.document_ref = g.document_ref
        ) as is_tied
    from related as g
    where g.related_window = 'around_trigger'
),

tied as (
    select clause_id, trigger_event_id, uscc, event_id, amount
    from grants
    where is_tied and document_ref = trigger_document_ref
),

open_triggers as (
    select
        t.*,
        row_number() over (partition by t.clause_id, t.uscc order by t.trigger_date, t.trigger_event_id) as pick
    from triggers as t
    where
        t.related_window = 'around_trigger'
        and not exists (select 1 from tied where tied.clause_id = t.clause_id and tied.trigger_event_id = t.trigger_event_id)
),

free_grants as (
    select
        clause_id,
        uscc,
        event_id,
        amount,
        effective_date,
        row_number() over (partition by clause_id, uscc order by effective_date, event_id) as pick
    from (
        select distinct clause_id, uscc, event_id, amount, effective_date
        from grants
        where not is_tied
    ) as g
),

in_window as (
    select t.clause_id, t.trigger_event_id, t.uscc, t.trigger_date, t.pick as trigger_pick,
           g.event_id, g.amount, g.effective_date, g.pick as grant_pick
    from open_triggers as t
    inner join free_grants as g on g.clause_id = t.clause_id and g.uscc = t.uscc
    where
        g.effective_date >= cast({{ dbt.dateadd('year', -1, 't.trigger_date') }} as date)
        and g.effective_date < cast({{ dbt.dateadd('year', 3, 't.trigger_date') }} as date)
),

-- one grant each, in date order
paired as (
    select clause_id, trigger_event_id, uscc, event_id, amount
    from in_window
    where trigger_pick = grant_pick
),

-- a grant no trigger took in its turn: the latest trigger on or before it, else the earliest after
leftover as (
    select clause_id, trigger_event_id, uscc, event_id, amount
    from (
        select
            w.*,
            row_number() over (
                partition by w.clause_id, w.uscc, w.event_id
                order by
                    case when w.trigger_date <= w.effective_date then 0 else 1 end,
                    case when w.trigger_date <= w.effective_date then w.trigger_date end desc,
                    w.trigger_date,
                    w.trigger_event_id
            ) as choice
        from in_window as w
        where not exists (
            select 1 from paired as p where p.clause_id = w.clause_id and p.uscc = w.uscc and p.event_id = w.event_id
        )
    ) as candidates
    where choice = 1
),

same_year as (
    select clause_id, trigger_event_id, uscc, event_id, amount
    from (
        select
            r.*,
            row_number() over (
                partition by r.clause_id, r.trigger_event_id
                order by coalesce(r.published_date, r.effective_date) desc, r.effective_date desc, r.event_id desc
            ) as recency
        from related as r
        inner join triggers as t on t.clause_id = r.clause_id and t.trigger_event_id = r.trigger_event_id
        where r.related_window = 'same_fiscal_year' and r.fiscal_year = t.trigger_year
    ) as figures
    where recency = 1
)

select clause_id, trigger_event_id, uscc, event_id, 'base' as role, amount from tied
union all
select clause_id, trigger_event_id, uscc, event_id, 'base' as role, amount from paired
union all
select clause_id, trigger_event_id, uscc, event_id, 'base' as role, amount from leftover
union all
select clause_id, trigger_event_id, uscc, event_id, 'base' as role, amount from same_year
{%- endmacro %}

{% macro amount_rule__percent_of_related(conditions) -%}
with bases as (
    select clause_id, trigger_event_id, sum(amount) as base_amount
    from {{ ref('int_entitlement_facts') }}
    where role = 'base'
    group by clause_id, trigger_event_id
)

select
    k.clause_id,
    k.trigger_event_id,
    k.uscc,
    c.amount_rule,
    cast(b.base_amount as decimal(18, 2)) as base_amount,
    cast(round(b.base_amount * c.percent * 0.01, 2) as decimal(18, 2)) as uncapped_amount,
    case
        when c.min_base_yuan is not null and b.base_amount < c.min_base_yuan
            then '基数未达' || cast(c.min_base_yuan as {{ dbt.type_string() }}) || '元'
    end as amount_unmet,
    coalesce(c.percent_is_cap, false) as rule_is_cap
from {{ conditions }} as k
inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = k.clause_id
left join bases as b on b.clause_id = k.clause_id and b.trigger_event_id = k.trigger_event_id
where c.amount_rule = 'percent_of_related'
{%- endmacro %}
