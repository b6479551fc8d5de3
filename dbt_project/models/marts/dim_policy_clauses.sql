-- Every clause of the catalog with its document: what an auditor or policy officer reads. The amount
-- rule's own keys are in amount_parameters (one JSON text per clause, written by the catalog), so a
-- new amount rule does not change this contract.
with holds as (
    select clause_id, {{ dbt.listagg('event_type', "','", "order by event_type") }} as holds_any
    from {{ ref('stg_policy__clause_holds_any') }}
    group by clause_id
)

select
    c.clause_id,
    c.document_id,
    d.title as document_title,
    d.doc_number,
    d.city,
    d.document_status,
    d.is_draft,
    c.article,
    c.quote,
    c.clause_reading,
    c.effective_from,
    c.effective_to,
    c.trigger_event_type,
    c.trigger_level,
    c.trigger_program,
    c.first_time,
    c.scale_condition,
    c.industry_scope,
    c.min_tier,
    h.holds_any,
    c.rank_at_most,
    c.rank_above,
    c.min_amount_yuan,
    c.within_years_after_scale_up,
    c.min_assessment,
    c.amount_rule,
    r.label_zh as amount_rule_label,
    c.amount_parameters,
    c.cap_yuan,
    c.annual_cap_yuan,
    c.caps_declared,
    c.stacking_group,
    c.budget_group,
    c.repeat_per,
    c.repeatable,
    c.automatic_ground,
    c.automatic_quote,
    c.on_automatic_list
from {{ ref('stg_policy__clauses') }} as c
inner join {{ ref('stg_policy__documents') }} as d on d.document_id = c.document_id
inner join {{ source('reference', 'amount_rules') }} as r on r.amount_rule = c.amount_rule
left join holds as h on h.clause_id = c.clause_id
