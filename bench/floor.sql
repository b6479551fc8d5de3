-- adapter: duckdb (benchmark floor, not a model)
-- The floor: one hand-written DuckDB query over the landed facts (raw.*) and the loaded catalog
-- (policy.*, reference.*) that computes, per clause, the payable total that the dbt models
-- (marts.fct_entitlements, status = 'payable') compute for the night getvariable('as_of').
--
-- It reads the catalog as data, so new clauses of the shapes below are covered without edits:
--   trigger (event type, level or any, actions, document city, clause window);
--   conditions: 首次 (no earlier granted/renewed of the same designation), 规上/规下 on the
--   trigger date (scale_up spells), industry scope by code prefix;
--   amount rules: fixed, up_to (planned at the cap), percent_of_grant (grant paid from a year
--   before to three years after the trigger) with an optional cap;
--   不可重复 (first qualifying trigger per clause and firm), 新认定 (a granted row while the firm
--   still holds that designation is a republication and pays nothing), revoked designations, source
--   retractions, 就高不重复 (highest in the stacking group per triggering event; ties: in-force
--   document before a draft, then clause id), automatic list only.
-- A clause with another amount rule is reported as not covered (`covered = false`).
-- Written for speed: aggregates and window functions instead of correlated subqueries, and
-- the per-firm history (spells, first grants, grants) read only for firms that trigger a clause.
with known as (
    select event_key as event_id, uscc, event_type, action, level, effective_date, program, amount
    from raw.events
    where effective_date <= getvariable('as_of')
      and coalesce(published_date, effective_date) <= getvariable('as_of')
      -- getvariable('touched_load') set: only the firms that load touched (the incremental bound)
      and (getvariable('touched_load') is null
           or uscc in (select uscc from raw.events where load_id = getvariable('touched_load')))
),
retracted as (
    select distinct uscc, event_type, coalesce(level, '') as lv, effective_date
    from known where action = 'retracted'
),
in_force as (
    select k.*, coalesce(k.level, '') as lv
    from known as k
    anti join retracted as r
        on r.uscc = k.uscc and r.event_type = k.event_type and r.lv = coalesce(k.level, '')
       and r.effective_date = k.effective_date
    where k.action <> 'retracted'
),
master as (
    select uscc, arg_max(division_code, (ingested_at, load_id, row_number)) as division_code,
           arg_max(industry_code, (ingested_at, load_id, row_number)) as industry_code
    from raw.firms group by uscc
),
clauses as (
    select c.*, d.city, d.status = 'draft' as is_draft, g.on_automatic_list,
           c.amount_rule in ('fixed', 'up_to', 'percent_of_grant') as covered
    from floor_clauses as c  -- policy.clauses, the columns the floor reads (bench/steps.py)
    join policy.documents as d on d.document_id = c.document_id
    join reference.automatic_grounds as g on g.ground = c.automatic_ground
),
triggers as (
    select c.clause_id, c.first_time, c.scale_condition, c.industry_scope, c.amount_rule, c.amount_yuan,
           c.percent, c.grant_event_type, c.grant_program, c.cap_yuan, c.stacking_group, c.repeatable,
           c.is_draft, c.on_automatic_list,
           e.event_id, e.uscc, e.event_type, e.action, e.lv, e.effective_date as trigger_date, m.industry_code
    from in_force as e
    join clauses as c
        on c.trigger_event_type = e.event_type and (c.trigger_level is null or c.trigger_level = e.level)
       and e.effective_date between c.effective_from and c.effective_to
    join policy.clause_actions as a on a.clause_id = c.clause_id and a.action = e.action
    left join master as m on m.uscc = e.uscc
    join reference.cities as ci
        on ci.division_prefix = substring(coalesce(m.division_code, substring(e.uscc, 3, 6)), 1, 4)
       and ci.city = c.city
),
trigger_firms as (select distinct uscc from triggers),
firm_events as (select e.* from in_force as e semi join trigger_firms as f on f.uscc = e.uscc),
history as (  -- validity spells of the designations/statuses of the firms that trigger something
    select e.*,
           lead(e.effective_date) over w as next_date,
           lead(e.action) over w as next_action,
           lag(e.action) over w as prev_action,
           lag(e.effective_date) over w as prev_date,
           case when t.validity_years is not null
                then cast(e.effective_date + to_years(t.validity_years) as date) end as expires_on,
           t.validity_years
    from firm_events as e
    join reference.event_types as t on t.event_type = e.event_type and t.kind in ('designation', 'status')
    window w as (partition by e.uscc, e.event_type, e.lv, coalesce(e.program, '')
                 order by e.effective_date, case when e.action in ('granted', 'renewed') then 0 else 1 end,
                          e.event_id)
),
first_grants as (
    select uscc, event_type, lv, min(effective_date) as first_date
    from firm_events where action in ('granted', 'renewed')
    group by uscc, event_type, lv
),
scale_spells as (
    select uscc, effective_date as valid_from,
           case when next_date is null then expires_on when expires_on is null then next_date
                else least(next_date, expires_on) end as valid_to
    from history where event_type = 'scale_up' and action in ('granted', 'renewed')
),
grants as (
    select uscc, event_type, program, effective_date, amount
    from firm_events
    where event_type in (select grant_event_type from clauses where grant_event_type is not null)
),
evaluated as (
    select t.*,
           (fg.first_date is null or fg.first_date >= t.trigger_date) as is_first_time,
           case when exists (select 1 from scale_spells as s
                             where s.uscc = t.uscc and s.valid_from <= t.trigger_date
                               and (s.valid_to is null or s.valid_to > t.trigger_date))
                then 'above' else 'below' end as scale_status,
           t.industry_scope is null or exists (
               select 1 from reference.industry_scope_prefixes as p
               where p.scope = t.industry_scope and starts_with(t.industry_code, p.prefix)) as is_in_scope,
           coalesce(h.next_action = 'revoked' and (h.expires_on is null or h.next_date < h.expires_on), false)
               as is_revoked,
           -- 新认定: a granted row while the designation it names is still held (the previous grant or
           -- renewal of it, within its validity) republishes that designation; it pays nothing
           coalesce(t.action = 'granted' and h.prev_action in ('granted', 'renewed')
                    and (h.validity_years is null
                         or t.trigger_date < cast(h.prev_date + to_years(h.validity_years) as date)), false)
               as is_republication,
           (select sum(g.amount) from grants as g
            where g.uscc = t.uscc and g.event_type = t.grant_event_type and g.program = t.grant_program
              and g.effective_date >= cast(t.trigger_date - interval 1 year as date)
              and g.effective_date < cast(t.trigger_date + interval 3 year as date)) as grant_base
    from triggers as t
    left join first_grants as fg on fg.uscc = t.uscc and fg.event_type = t.event_type and fg.lv = t.lv
    left join history as h on h.event_id = t.event_id and h.action in ('granted', 'renewed')
),
priced as (
    select *,
           case when amount_rule in ('fixed', 'up_to') then amount_yuan
                when amount_rule = 'percent_of_grant' and grant_base is not null
                    then cast(round(grant_base * percent / 100, 2) as decimal(18, 2)) end as uncapped
    from evaluated
    where (not first_time or is_first_time)
      and (scale_condition is null or scale_condition = scale_status)
      and is_in_scope
      and not is_republication
),
decided as (
    select *,
           cast(case when cap_yuan is not null and uncapped > cap_yuan then cap_yuan else uncapped end
                as decimal(18, 2)) as amount,
           repeatable or row_number() over (partition by clause_id, uscc order by trigger_date, event_id) = 1
               as is_first_occurrence
    from priced
),
ranked as (
    select *,
           row_number() over (partition by uscc, coalesce(stacking_group, clause_id), event_id
                              order by amount desc, is_draft, clause_id) as stacking_rank
    from decided
    where is_first_occurrence and not is_revoked and amount is not null
)
select c.clause_id, c.amount_rule, c.covered,
       count(r.event_id) as payable_count,
       coalesce(sum(r.amount), 0) as payable_total
from clauses as c
left join ranked as r on r.clause_id = c.clause_id and r.stacking_rank = 1 and r.on_automatic_list
group by c.clause_id, c.amount_rule, c.covered
order by c.clause_id
