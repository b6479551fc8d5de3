-- The events behind each entitlement of the night, by role:
--   trigger     the event that fires the clause;
--   base        for percent_of_related, the related facts summed into the base
--               (int_entitlement_related_facts, the same rows int_entitlement_amounts sums);
--   report      for revenue_growth / contribution, the annual reports of the years compared;
--   revocation  for a revoked entitlement, the revocation that ended its designation.
-- The ledger freezes these with every line it writes (ledger.line_facts), so the trail of a
-- line survives later corrections of the data.
with entitlements as (
    select
        e.entitlement_id,
        e.uscc,
        e.clause_id,
        e.trigger_event_id,
        e.trigger_date,
        e.award_year,
        e.amount_rule,
        e.status
    from {{ ref('fct_entitlements') }} as e
),

triggers as (
    select entitlement_id, trigger_event_id as event_id, 'trigger' as role
    from entitlements
),

bases as (
    select e.entitlement_id, f.related_event_id as event_id, 'base' as role
    from entitlements as e
    inner join {{ ref('int_entitlement_related_facts') }} as f
        on f.clause_id = e.clause_id and f.trigger_event_id = e.trigger_event_id and f.uscc = e.uscc
    where e.amount_rule = 'percent_of_related'
),

reports as (
    select e.entitlement_id, a.report_event_id as event_id, 'report' as role
    from entitlements as e
    inner join {{ ref('int_annual_reports') }} as a
        on
            a.uscc = e.uscc
            and (
                (e.amount_rule = 'contribution' and a.fiscal_year in (e.award_year - 1, e.award_year))
                or (e.amount_rule = 'revenue_growth' and a.fiscal_year in (e.award_year, e.award_year + 1))
            )
),

revocations as (
    select e.entitlement_id, r.event_id, 'revocation' as role
    from entitlements as e
    inner join {{ ref('int_designation_spells') }} as s on s.start_event_id = e.trigger_event_id
    inner join {{ ref('int_events_in_force') }} as r
        on
            r.uscc = s.uscc
            and r.event_type = s.event_type
            and coalesce(r.level, '') = coalesce(s.level, '')
            and r.action = 'revoked'
            and r.effective_date = s.valid_to
    where e.status = 'revoked' and s.end_reason = 'revoked'
)

select * from triggers
union
select * from bases
union
select * from reports
union
select * from revocations
