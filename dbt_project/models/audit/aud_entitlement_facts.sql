-- The events behind each entitlement of the night, by role:
--   trigger     the event that fires the clause;
--   base        for percent_of_related, the grant or figure matched with the trigger
--               (int_entitlement_facts, the same rows int_entitlement_amounts sums);
--   report      for revenue_growth / contribution, the annual reports of the years compared
--               (int_entitlement_facts);
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

rule_facts as (
    -- the facts the amount rule rests on (int_entitlement_facts: the base grant or figure, the
    -- annual reports compared), the same rows int_entitlement_amounts reads
    select e.entitlement_id, f.event_id, f.role
    from entitlements as e
    inner join {{ ref('int_entitlement_facts') }} as f
        on f.clause_id = e.clause_id and f.trigger_event_id = e.trigger_event_id and f.uscc = e.uscc
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
select * from rule_facts
union
select * from revocations
