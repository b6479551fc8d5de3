{#- Retraction matching, the one definition: a `retracted` record `r` (a source withdrawing a record it
    published in error) withdraws the record `e` of the same firm, event type, level and effective
    date, and of the same program when the retraction names one (two evaluated products or two
    rankings of one firm on one day are told apart by their program). Its own document_ref is the
    retraction notice's, so it is not compared. Used by int_event_retractions only; everything else
    (int_events_in_force, the ledger's reason codes, explain) reads that model's rows. -#}
{% macro retraction_withdraws(r, e) -%}
    {{ r }}.action = 'retracted'
    and {{ e }}.action <> 'retracted'
    and {{ r }}.uscc = {{ e }}.uscc
    and {{ r }}.event_type = {{ e }}.event_type
    and coalesce({{ r }}.level, '') = coalesce({{ e }}.level, '')
    and {{ r }}.effective_date = {{ e }}.effective_date
    and ({{ r }}.program is null or {{ r }}.program = {{ e }}.program)
{%- endmacro %}
