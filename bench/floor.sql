-- adapter: duckdb (benchmark floor, not a model)
-- The floor: one hand-written DuckDB query over the landed facts (raw.*) and the loaded catalog
-- (policy.*, reference.*) that computes, per clause, the payable count and total that the dbt
-- models (marts.fct_entitlements, status = 'payable', payable_amount) compute for the night
-- getvariable('as_of'). It is a second implementation, written from the clauses' readings, not
-- from the models' SQL; bench/steps.py compares the two per clause.
--
-- It reads the catalog as data, so a new clause of the shapes below is covered without edits:
--   facts: effective and published by the night; a `retracted` record withdraws the record of the
--   same firm, type, level and date (and program / amount when it names them);
--   trigger: event type, level, program (or any), actions, the firm's city = the document's city,
--   the clause window;
--   conditions on the trigger date: 首次 (no earlier grant or renewal of the same designation, of
--   the clause's program when it names one), 规上/规下 (scale_up spells), industry scope by code
--   prefix, min_tier (a 梯度 tier at least that high held; a provincial 单项冠军 is no tier 4),
--   holds_any (policy.clause_holds_any), rank_at_most / rank_above, min_amount_yuan (the fact's
--   amount), within_years_after_scale_up (the fact's year from the first 升规 year to N after),
--   新认定 (a granted designation while the firm still holds it, or for a clause per project a
--   granted row whose document_ref an earlier one carried, is a republication: nothing);
--   amount rules: fixed; up_to (planned at the cap); percent_of_trigger (of the fact's amount,
--   min_base_yuan); percent_of_related (around_trigger: the grant whose document_ref is the
--   designation's, else untied grants one per trigger in date order within [-1 y, +3 y), a grant
--   left over to the latest trigger on or before it, else the earliest after; same_fiscal_year: the
--   year's latest figure; min_base_yuan); revenue_growth (the 升规 year's and the next year's
--   reports); contribution (weighted reports of Y-1 and Y, whole stock and increase units);
--   per_incubated_hitech (paid to the incubator hosting, or graduating that year, a tenant whose
--   first 高企 grant it is, with an assessment at least min_assessment; award year = next year);
--   caps: per award (cap_yuan), per firm, clause and award year (annual_cap_yuan), shared cap groups
--   (policy.annual_cap_groups, per firm_year), consumed in trigger order;
--   repeats (repeat_per): firm, level, program, designation, grant, project, project_year,
--   fiscal_year, tenant: the first qualifying, unrevoked trigger of each key; revoked designations;
--   就高不重复 (highest in the stacking group per triggering event; ties: in-force document before
--   a draft, then clause id); automatic list only; budgets (policy.budgets): pro rata rounded down
--   to the fen when a group's payable awards of a year exceed its budget.
-- bench/steps.py uncovered_features reports any clause using a catalog feature not listed here.
-- Written for speed: aggregates, window functions and joins; the per-firm history (spells, first
-- grants, reports) read only for the firms that trigger a clause.
with touched as (  -- getvariable('touched_load') set: only the firms that load touched (the incremental bound)
    select distinct uscc from raw.events where load_id = getvariable('touched_load')
),
known as (
    select event_key as event_id, uscc, event_type, action, level, effective_date, published_date, program,
           amount, document_ref, fiscal_year
    from raw.events
    where effective_date <= getvariable('as_of')
      and coalesce(published_date, effective_date) <= getvariable('as_of')
      and getvariable('touched_load') is null
    union all
    select event_key, uscc, event_type, action, level, effective_date, published_date, program,
           amount, document_ref, fiscal_year
    from raw.events semi join touched using (uscc)
    where effective_date <= getvariable('as_of')
      and coalesce(published_date, effective_date) <= getvariable('as_of')
      and getvariable('touched_load') is not null
),
withdrawals as (
    select uscc, event_type, coalesce(level, '') as lv, effective_date, program, amount
    from raw.events
    where action = 'retracted' and effective_date <= getvariable('as_of')
      and coalesce(published_date, effective_date) <= getvariable('as_of')
),
in_force as (
    select k.*, coalesce(k.level, '') as lv
    from known as k
    anti join withdrawals as r
        on r.uscc = k.uscc and r.event_type = k.event_type and r.lv = coalesce(k.level, '')
       and r.effective_date = k.effective_date
       and (r.program is null or r.program = k.program) and (r.amount is null or r.amount = k.amount)
    where k.action <> 'retracted'
),
master as (
    select uscc, arg_max(division_code, (ingested_at, load_id, row_number)) as division_code,
           arg_max(industry_code, (ingested_at, load_id, row_number)) as industry_code
    from raw.firms group by uscc
),
clauses as (
    select c.*, d.city, d.status = 'draft' as is_draft, g.on_automatic_list, tier.tier_rank as min_tier_rank,
           case c.min_assessment when 'excellent' then 4 when 'good' then 3 when 'pass' then 2 else 1 end
               as min_grade,
           h.clause_id is not null as needs_holding,  -- holds_any: one of policy.clause_holds_any that day
           c.amount_rule in ('fixed', 'up_to', 'percent_of_trigger', 'percent_of_related', 'revenue_growth',
                             'contribution', 'per_incubated_hitech') as covered
    from floor_clauses as c  -- policy.clauses, the columns the floor reads (bench/steps.py)
    join policy.documents as d on d.document_id = c.document_id
    join reference.automatic_grounds as g on g.ground = c.automatic_ground
    left join reference.event_types as tier on tier.event_type = c.min_tier
    left join (select distinct clause_id from policy.clause_holds_any) as h on h.clause_id = c.clause_id
),
triggers as (
    select c.clause_id, c.amount_rule, e.event_id, e.uscc, e.event_type, e.action, e.lv, e.program, e.document_ref,
           e.amount as fact_amount, x.rank, e.effective_date as trigger_date,
           coalesce(e.fiscal_year, year(e.effective_date)) as trigger_year, m.industry_code, k.kind
    from in_force as e
    join clauses as c
        on c.trigger_event_type = e.event_type and (c.trigger_level is null or c.trigger_level = e.level)
       and (c.trigger_program is null or c.trigger_program = e.program)
       and e.effective_date between c.effective_from and c.effective_to
    join policy.clause_actions as a on a.clause_id = c.clause_id and a.action = e.action
    join reference.event_types as k on k.event_type = e.event_type
    left join master as m on m.uscc = e.uscc
    join reference.cities as ci
        on ci.division_prefix = substring(coalesce(m.division_code, substring(e.uscc, 3, 6)), 1, 4)
       and ci.city = c.city
    left join raw.events as x on x.event_key = e.event_id and (c.rank_at_most is not null or c.rank_above is not null)
    where c.amount_rule <> 'per_incubated_hitech'
),
tenancy_rows as (  -- incubator (uscc) hosts tenant (related_uscc)
    select e.uscc as incubator, x.related_uscc as tenant, e.action, e.effective_date,
           lead(e.effective_date) over w as ended_on, lead(e.action) over w as end_action
    from in_force as e
    join raw.events as x on x.event_key = e.event_id
    where e.event_type = 'incubated_firm' and x.event_type = 'incubated_firm'
      and exists (select 1 from clauses where amount_rule = 'per_incubated_hitech')
    window w as (partition by e.uscc, x.related_uscc
                 order by e.effective_date, case when e.action in ('granted', 'renewed') then 0 else 1 end, e.event_id)
),
tenancies as (
    select incubator, tenant, effective_date as valid_from, ended_on, end_action
    from tenancy_rows where action in ('granted', 'renewed')
),
trigger_firms as (
    select uscc from triggers
    union select incubator from tenancies
    union select tenant from tenancies
),
firm_events as (select e.* from in_force as e semi join trigger_firms as f on f.uscc = e.uscc),
history as (  -- validity spells of the designations/statuses of those firms
    select e.*,
           lead(e.effective_date) over w as next_date,
           lead(e.action) over w as next_action,
           lag(e.action) over w as prev_action,
           lag(e.effective_date) over w as prev_date,
           case when t.validity_years is not null
                then cast(e.effective_date + to_years(t.validity_years) as date) end as expires_on,
           t.validity_years,
           case when e.event_type <> 'single_champion' or e.level = 'national' then t.tier_rank end as tier_rank
    from firm_events as e
    join reference.event_types as t on t.event_type = e.event_type and t.kind in ('designation', 'status')
    window w as (partition by e.uscc, e.event_type, e.lv, coalesce(e.program, '')
                 order by e.effective_date, case when e.action in ('granted', 'renewed') then 0 else 1 end,
                          e.event_id)
),
spells as (
    select uscc, event_type, event_id, tier_rank, effective_date as valid_from,
           case when next_date is null then expires_on when expires_on is null then next_date
                else least(next_date, expires_on) end as valid_to,
           -- revoked while it held: the award it grounded is lost
           coalesce(next_action = 'revoked' and (expires_on is null or next_date < expires_on), false)
               as is_revoked
    from history where action in ('granted', 'renewed')
),
republications as (  -- granted rows that only republish a designation still held
    select event_id
    from history
    where action = 'granted' and prev_action in ('granted', 'renewed')
      and (validity_years is null or effective_date < cast(prev_date + to_years(validity_years) as date))
),
project_repeats as (  -- per project: a granted row whose document_ref an earlier grant/renewal carried
    select event_id
    from firm_events
    where action in ('granted', 'renewed') and document_ref is not null
    qualify action = 'granted'
        and row_number() over (partition by uscc, event_type, lv, document_ref order by effective_date, event_id) > 1
),
first_any as (
    select uscc, event_type, lv, min(effective_date) as first_date
    from firm_events where action in ('granted', 'renewed') group by all
),
first_of_program as (
    select uscc, event_type, lv, program, min(effective_date) as first_date
    from firm_events where action in ('granted', 'renewed') and program is not null group by all
),
first_scale_up as (
    select uscc, min(year(effective_date)) as first_year
    from firm_events where event_type = 'scale_up' and action in ('granted', 'renewed') group by all
),
reports as (  -- the report in force per firm and year: the latest published
    select f.uscc, f.fiscal_year, f.event_id, x.revenue, x.profit, x.wages
    from firm_events as f
    join raw.events as x on x.event_key = f.event_id
    where f.event_type = 'annual_report' and f.action in ('granted', 'renewed') and x.event_type = 'annual_report'
    qualify row_number() over (partition by f.uscc, f.fiscal_year
                               order by coalesce(f.published_date, f.effective_date) desc, f.effective_date desc,
                                        f.event_id desc) = 1
),
held_on_trigger_date as (  -- what the firm holds on the trigger date, for the clauses that ask
    select t.clause_id, t.event_id,
           bool_or(s.event_type = 'scale_up') as is_above_scale,
           max(s.tier_rank) as tier_rank,
           bool_or(h.event_type is not null) as holds_required
    from triggers as t
    join clauses as c on c.clause_id = t.clause_id
    join spells as s
        on s.uscc = t.uscc and s.valid_from <= t.trigger_date and (s.valid_to is null or s.valid_to > t.trigger_date)
    left join policy.clause_holds_any as h on h.clause_id = t.clause_id and h.event_type = s.event_type
    where c.scale_condition is not null or c.min_tier_rank is not null or c.needs_holding
    group by t.clause_id, t.event_id
),
in_scope as (
    select distinct t.clause_id, t.event_id
    from triggers as t
    join clauses as c on c.clause_id = t.clause_id
    join reference.industry_scope_prefixes as p on p.scope = c.industry_scope
    where starts_with(t.industry_code, p.prefix)
),
evaluated as (
    select t.*, c.first_time, c.scale_condition, c.industry_scope, c.min_tier_rank, c.rank_at_most, c.rank_above,
           c.min_amount_yuan, c.within_years_after_scale_up, c.repeat_per, c.needs_holding,
           case when c.trigger_program is null then fa.first_date else fp.first_date end as first_date,
           case when coalesce(st.is_above_scale, false) then 'above' else 'below' end as scale_status,
           st.tier_rank as held_tier_rank, coalesce(st.holds_required, false) as holds_required,
           sc.event_id is not null as is_in_scope,
           fs.first_year as scale_up_year,
           t.action = 'granted' and t.kind in ('designation', 'status')
               and case when c.repeat_per in ('project', 'project_year') then pr.event_id is not null
                        else rp.event_id is not null end as is_republication
    from triggers as t
    join clauses as c on c.clause_id = t.clause_id
    left join first_any as fa on fa.uscc = t.uscc and fa.event_type = t.event_type and fa.lv = t.lv
    left join first_of_program as fp
        on fp.uscc = t.uscc and fp.event_type = t.event_type and fp.lv = t.lv and fp.program = c.trigger_program
    left join first_scale_up as fs on fs.uscc = t.uscc
    left join held_on_trigger_date as st on st.clause_id = t.clause_id and st.event_id = t.event_id
    left join in_scope as sc on sc.clause_id = t.clause_id and sc.event_id = t.event_id
    left join republications as rp on rp.event_id = t.event_id
    left join project_repeats as pr on pr.event_id = t.event_id
),
met as (  -- the triggers whose conditions all hold
    select *
    from evaluated
    where (not first_time or first_date is null or first_date >= trigger_date)
      and (scale_condition is null or scale_condition = scale_status)
      and (industry_scope is null or is_in_scope)
      and (min_tier_rank is null or coalesce(held_tier_rank >= min_tier_rank, false))
      and (not needs_holding or holds_required)
      and (rank_at_most is null or coalesce(rank <= rank_at_most, false))
      and (rank_above is null or coalesce(rank > rank_above, false))
      and (min_amount_yuan is null or coalesce(fact_amount >= min_amount_yuan, false))
      and (within_years_after_scale_up is null
           or coalesce(trigger_year between scale_up_year and scale_up_year + within_years_after_scale_up, false))
      and not is_republication
),
-- percent_of_related: the related facts of each trigger
related as (
    select t.clause_id, t.event_id as trigger_id, t.uscc, t.event_type as trigger_type, t.trigger_date,
           t.trigger_year, t.document_ref as trigger_ref, c.related_window,
           r.event_id as fact_id, r.amount, r.effective_date, r.published_date, r.document_ref, r.fiscal_year
    from met as t
    join clauses as c on c.clause_id = t.clause_id
    join firm_events as r
        on r.uscc = t.uscc and r.event_type = c.related_event_type
       and (c.related_program is null or r.program = c.related_program) and r.action in ('granted', 'renewed')
    where t.amount_rule = 'percent_of_related'
),
designation_refs as (
    select distinct uscc, event_type, document_ref
    from firm_events where document_ref is not null and action in ('granted', 'renewed')
),
around as (
    select f.*, d.uscc is not null as is_tied
    from related as f
    left join designation_refs as d
        on d.uscc = f.uscc and d.event_type = f.trigger_type and d.document_ref = f.document_ref
    where f.related_window = 'around_trigger'
),
tied as (select clause_id, trigger_id, amount from around where is_tied and document_ref = trigger_ref),
open_triggers as (
    select t.clause_id, t.event_id as trigger_id, t.uscc, t.trigger_date,
           row_number() over (partition by t.clause_id, t.uscc order by t.trigger_date, t.event_id) as turn
    from met as t
    join clauses as c on c.clause_id = t.clause_id
    anti join tied on tied.clause_id = t.clause_id and tied.trigger_id = t.event_id
    where c.related_window = 'around_trigger'
),
untied as (
    select *, row_number() over (partition by clause_id, uscc order by effective_date, fact_id) as turn
    from (select distinct clause_id, uscc, fact_id, amount, effective_date from around where not is_tied)
),
reachable as (
    select t.clause_id, t.trigger_id, t.uscc, t.trigger_date, t.turn as trigger_turn,
           g.fact_id, g.amount, g.effective_date, g.turn as grant_turn
    from open_triggers as t
    join untied as g on g.clause_id = t.clause_id and g.uscc = t.uscc
    where g.effective_date >= cast(t.trigger_date - interval 1 year as date)
      and g.effective_date < cast(t.trigger_date + interval 3 year as date)
),
paired as (select * from reachable where trigger_turn = grant_turn),
left_over as (
    select r.*
    from reachable as r
    anti join paired as p on p.clause_id = r.clause_id and p.uscc = r.uscc and p.fact_id = r.fact_id
    qualify row_number() over (
        partition by r.clause_id, r.uscc, r.fact_id
        order by r.trigger_date > r.effective_date,
                 case when r.trigger_date <= r.effective_date then r.trigger_date end desc nulls last,
                 r.trigger_date, r.trigger_id) = 1
),
same_year as (
    select clause_id, trigger_id, amount
    from related
    where related_window = 'same_fiscal_year' and fiscal_year = trigger_year
    qualify row_number() over (partition by clause_id, trigger_id
                               order by coalesce(published_date, effective_date) desc, effective_date desc,
                                        fact_id desc) = 1
),
related_bases as (
    select clause_id, trigger_id, sum(amount) as base
    from (select clause_id, trigger_id, amount from tied
          union all select clause_id, trigger_id, amount from paired
          union all select clause_id, trigger_id, amount from left_over
          union all select clause_id, trigger_id, amount from same_year)
    group by all
),
priced as (
    select m.clause_id, m.event_id, m.uscc, m.trigger_date, m.trigger_year, m.document_ref, m.program,
           c.amount_rule, c.amount_yuan, c.percent, c.min_base_yuan, c.min_growth_percent, c.min_contribution_yuan,
           case c.amount_rule when 'percent_of_trigger' then m.fact_amount when 'percent_of_related' then rb.base end
               as base,
           cur.event_id is not null as is_current_report,
           cur.revenue * c.weight_revenue + cur.profit * c.weight_profit + cur.wages * c.weight_wages as c_this,
           prev.revenue * c.weight_revenue + prev.profit * c.weight_profit + prev.wages * c.weight_wages as c_last,
           c.stock_unit_yuan, c.stock_unit_award_yuan, c.increase_unit_yuan, c.increase_unit_award_yuan,
           this_year.revenue as rev_year, next_year.revenue as rev_next
    from met as m
    join clauses as c on c.clause_id = m.clause_id
    left join related_bases as rb on rb.clause_id = m.clause_id and rb.trigger_id = m.event_id
    left join reports as cur
        on c.amount_rule = 'contribution' and cur.uscc = m.uscc and cur.fiscal_year = m.trigger_year
       and cur.event_id = m.event_id
    left join reports as prev
        on c.amount_rule = 'contribution' and prev.uscc = m.uscc and prev.fiscal_year = m.trigger_year - 1
    left join reports as this_year
        on c.amount_rule = 'revenue_growth' and this_year.uscc = m.uscc and this_year.fiscal_year = m.trigger_year
    left join reports as next_year
        on c.amount_rule = 'revenue_growth' and next_year.uscc = m.uscc
       and next_year.fiscal_year = m.trigger_year + 1
),
amounts as (  -- null: the data it rests on has not arrived (the trigger still takes its turn)
    select *,
           case amount_rule
               when 'fixed' then amount_yuan
               when 'up_to' then amount_yuan
               when 'percent_of_trigger' then round(base * percent * 0.01, 2)
               when 'percent_of_related' then round(base * percent * 0.01, 2)
               when 'revenue_growth' then
                   case when rev_year > 0 and (rev_next - rev_year) * 100 >= rev_year * min_growth_percent
                        then amount_yuan end
               when 'contribution' then
                   case when is_current_report and c_this >= min_contribution_yuan and c_this > c_last
                        then floor(c_last / stock_unit_yuan) * stock_unit_award_yuan
                             + floor((c_this - c_last) / increase_unit_yuan) * increase_unit_award_yuan end
           end as uncapped,
           -- the amount's own condition fails: the trigger does not count at all
           case amount_rule
               when 'percent_of_trigger' then coalesce(base < min_base_yuan, false)
               when 'percent_of_related' then coalesce(base < min_base_yuan, false)
               when 'revenue_growth' then rev_year is not null and rev_next is not null
                   and not coalesce(rev_year > 0 and (rev_next - rev_year) * 100 >= rev_year * min_growth_percent,
                                    false)
               when 'contribution' then not is_current_report
                   or coalesce(c_this < min_contribution_yuan or c_this <= c_last, false)
               else false
           end as amount_fails
    from priced
),
-- per_incubated_hitech: the tenant's first 高企 grant pays its incubator
first_hitech as (
    select e.event_id, e.uscc as tenant, e.event_type, e.effective_date
    from firm_events as e
    join (select uscc, event_type, min(effective_date) as first_date
          from firm_events where action in ('granted', 'renewed') group by all) as f
        on f.uscc = e.uscc and f.event_type = e.event_type and f.first_date = e.effective_date
    where e.action = 'granted' and e.uscc in (select tenant from tenancies)
),
incubator_awards as (
    select c.clause_id, h.event_id, t.incubator as uscc, h.tenant, h.effective_date as trigger_date,
           year(h.effective_date) + 1 as trigger_year, c.amount_yuan,
           max(t.ended_on is null or t.ended_on > h.effective_date) as hosted
    from clauses as c
    join first_hitech as h
        on h.event_type = c.trigger_event_type and h.effective_date between c.effective_from and c.effective_to
    join tenancies as t
        on t.tenant = h.tenant and t.valid_from <= h.effective_date
       and (t.ended_on is null or t.ended_on > h.effective_date
            or (t.end_action = 'expired' and year(t.ended_on) = year(h.effective_date)))
    left join master as m on m.uscc = t.incubator
    join reference.cities as ci
        on ci.division_prefix = substring(coalesce(m.division_code, substring(t.incubator, 3, 6)), 1, 4)
       and ci.city = c.city
    where c.amount_rule = 'per_incubated_hitech'
      and exists (select 1 from spells as s
                  where s.uscc = t.incubator and s.event_type = 'incubator' and s.valid_from <= h.effective_date
                    and (s.valid_to is null or s.valid_to > h.effective_date))
      and exists (select 1 from in_force as a
                  where a.uscc = t.incubator and a.event_type = 'incubator_assessment'
                    and a.fiscal_year = year(h.effective_date)
                    and case a.program when 'excellent' then 4 when 'good' then 3 when 'pass' then 2 else 1 end
                        >= c.min_grade)
    group by c.clause_id, h.event_id, t.incubator, h.tenant, h.effective_date, c.amount_yuan
    qualify row_number() over (partition by c.clause_id, h.event_id order by hosted desc, t.incubator) = 1
),
candidates as (
    select a.clause_id, a.event_id, a.uscc, a.trigger_date, a.trigger_year,
           case c.repeat_per
               when 'firm' then '' when 'level' then ''
               when 'program' then coalesce(a.program, '')
               when 'designation' then a.event_id when 'grant' then a.event_id
               when 'project' then coalesce(a.document_ref, a.event_id)
               when 'project_year' then coalesce(a.document_ref, a.event_id) || '|' || a.trigger_year
               when 'fiscal_year' then cast(a.trigger_year as varchar)
           end as repeat_key,
           cast(case when c.cap_yuan is not null and a.uncapped > c.cap_yuan then c.cap_yuan else a.uncapped end
                as decimal(18, 2)) as amount
    from amounts as a
    join clauses as c on c.clause_id = a.clause_id
    where not a.amount_fails
    union all
    select clause_id, event_id, uscc, trigger_date, trigger_year, tenant, cast(amount_yuan as decimal(18, 2))
    from incubator_awards
),
turns as (
    select k.*, c.stacking_group, c.is_draft, c.on_automatic_list, c.annual_cap_yuan, c.budget_group,
           coalesce(s.is_revoked, false) as is_revoked
    from candidates as k
    join clauses as c on c.clause_id = k.clause_id
    left join spells as s on s.event_id = k.event_id
),
firsts as (  -- each key's first unrevoked qualifying trigger, with its amount known
    select *
    from turns
    where not is_revoked
    qualify row_number() over (partition by clause_id, uscc, repeat_key order by trigger_date, event_id) = 1
),
winners as (  -- 就高不重复
    select *
    from firsts
    where amount is not null
    qualify row_number() over (partition by uscc, coalesce(stacking_group, clause_id), event_id
                               order by amount desc, is_draft, clause_id) = 1
),
clause_capped as (
    select *,
           case when annual_cap_yuan is null then amount
                else greatest(0, least(amount, annual_cap_yuan - coalesce(sum(amount) over (
                         partition by uscc, clause_id, trigger_year order by trigger_date, event_id
                         rows between unbounded preceding and 1 preceding), 0))) end as after_clause_cap
    from winners
),
group_capped as (
    select w.*, g.cap_group,
           case when g.cap_group is null then w.after_clause_cap
                else greatest(0, least(w.after_clause_cap, g.yuan - coalesce(sum(w.after_clause_cap) over (
                         partition by w.uscc, g.cap_group, w.trigger_year order by w.trigger_date, w.event_id, w.clause_id
                         rows between unbounded preceding and 1 preceding), 0))) end as award
    from clause_capped as w
    left join policy.annual_cap_groups as g on g.clause_id = w.clause_id
),
payable as (
    select p.*, b.yuan as budget,
           sum(p.award) over (partition by p.budget_group, p.trigger_year) as claimed
    from group_capped as p
    left join policy.budgets as b on b.budget_group = p.budget_group and b.budget_year = p.trigger_year
    where p.award <> 0 and p.on_automatic_list
),
paid as (
    select clause_id, event_id,
           case when budget is not null and claimed > budget
                -- 不足时按比例兑现, rounded down to the fen (exact: integer fen)
                then cast(cast(award * 100 as hugeint) * cast(budget * 100 as hugeint) // cast(claimed * 100 as hugeint)
                          as decimal(38, 0)) * 0.01
                else award end as amount
    from payable
)
select c.clause_id, c.amount_rule, c.covered,
       count(p.event_id) as payable_count,
       coalesce(sum(p.amount), 0) as payable_total
from clauses as c
left join paid as p on p.clause_id = c.clause_id
group by c.clause_id, c.amount_rule, c.covered
order by c.clause_id
