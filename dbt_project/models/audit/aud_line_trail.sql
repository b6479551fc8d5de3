-- The trail of every list line: line -> clause as it read when the line was listed (document,
-- 文号, article, quoted text, rule version, and whether the catalog's text has changed since)
-- -> the events behind it (role: trigger, base, report, revocation, retraction) -> the source
-- rows they were landed from (source, file name, file sha256, row number, ingested at).
select
    l.list_date,
    l.line_id,
    l.entitlement_id,
    l.uscc,
    l.firm_name,
    l.kind,
    l.amount,
    l.reason,
    l.clause_id,
    v.rule_version,
    v.document_title,
    v.doc_number,
    v.document_status,
    v.article,
    v.quote,
    v.clause_reading,
    v.amount_rule,
    cur.clause_id is null
    or cur.quote is distinct from v.quote
    or cur.article is distinct from v.article
    or cur.document_title is distinct from v.document_title as clause_text_changed_since,
    f.role as event_role,
    f.event_id,
    ev.event_type,
    ev.action,
    ev.level,
    ev.effective_date,
    ev.published_date,
    ev.document_ref,
    ev.program,
    ev.amount as event_amount,
    ev.fiscal_year,
    ev.source,
    ld.file_name as source_file,
    ev.file_sha256 as source_file_sha256,
    ev.source_row_number,
    ev.ingested_at
from {{ source('ledger', 'lines') }} as l
left join {{ source('ledger', 'clause_versions') }} as v on v.rule_version = l.rule_version
left join {{ ref('dim_policy_clauses') }} as cur on cur.clause_id = l.clause_id
left join {{ source('ledger', 'line_facts') }} as f on f.line_id = l.line_id
left join {{ ref('stg_registry__events') }} as ev on ev.event_id = f.event_id
-- the load of the event's row (stg_registry__events keeps it): one read of the events, not two
left join {{ source('raw', 'loads') }} as ld on ld.load_id = ev.load_id
