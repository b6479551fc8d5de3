-- Yearly caps hold on the list: for each firm and award year, the amounts of the stacking
-- winners (stacking_rank 1: payable, needs_application, cap_reached) of a clause never exceed its
-- annual_cap_yuan, and those of a shared cap group never exceed the group's cap.
with winners as (
    select uscc, clause_id, cap_group, award_year, entitled_amount
    from {{ ref('fct_entitlements') }}
    where stacking_rank = 1
),

clause_totals as (
    select
        'clause' as cap_kind,
        w.clause_id as cap_id,
        w.uscc,
        w.award_year,
        sum(w.entitled_amount) as total,
        max(c.annual_cap_yuan) as cap_yuan
    from winners as w
    inner join {{ ref('dim_policy_clauses') }} as c on c.clause_id = w.clause_id
    where c.annual_cap_yuan is not null
    group by w.clause_id, w.uscc, w.award_year
),

group_totals as (
    select
        'cap_group' as cap_kind,
        w.cap_group as cap_id,
        w.uscc,
        w.award_year,
        sum(w.entitled_amount) as total,
        max(g.cap_yuan) as cap_yuan
    from winners as w
    inner join (select distinct cap_group, cap_yuan from {{ ref('stg_policy__annual_cap_groups') }}) as g
        on g.cap_group = w.cap_group
    group by w.cap_group, w.uscc, w.award_year
)

select * from clause_totals where total > cap_yuan
union all
select * from group_totals where total > cap_yuan
