{#- Retraction matching, the one definition: a `retracted` record `r` (a source withdrawing a record it
    published in error) withdraws the record `e` of the same firm, event type, level and effective
    date, and of the same program and amount when the retraction names them (two evaluated products
    or two rankings of one firm on one day are told apart by their program; a corrected grant arrives
    as a retraction of the amount that landed plus the new fact of the same date and program, and the
    retraction withdraws only the old record). Its own document_ref is the retraction notice's, so it
    is not compared. Used by int_event_retractions (everything else in the models: int_events_in_force,
    the ledger's reason codes, explain, reads that model's rows), aud_firm_standing_on, and by ingest,
    which renders `retraction_matches` from this file with plain Jinja to tell a correction from a
    conflict and to report a retraction that withdraws nothing (registry/ingest/land.py): so this file
    uses nothing but Jinja, no dbt functions. -#}
{% macro retraction_withdraws(r, e) -%}
    {{ r }}.action = 'retracted'
    and {{ e }}.action <> 'retracted'
    and {{ retraction_matches(r, e) }}
{%- endmacro %}

{#- The fields a retraction and the record it withdraws share (typed as in raw.events). -#}
{% macro retraction_matches(r, e) -%}
    {{ r }}.uscc = {{ e }}.uscc
    and {{ r }}.event_type = {{ e }}.event_type
    and coalesce({{ r }}.level, '') = coalesce({{ e }}.level, '')
    and {{ r }}.effective_date = {{ e }}.effective_date
    and ({{ r }}.program is null or {{ r }}.program = {{ e }}.program)
    and ({{ r }}.amount is null or {{ r }}.amount = {{ e }}.amount)
{%- endmacro %}
