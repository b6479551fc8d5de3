{#- The known-time rule, the one definition (design.md): a night for `day` knows a record once its
    source had published it by then; a record without a published_date is known when it takes
    effect. `e` is the events' alias, or '' for unqualified columns. Used by int_events_in_force,
    int_event_retractions, int_changed_firms and the audit view event_knowledge. -#}
{% macro known_by(day, e='') -%}
    {%- set p = e ~ '.' if e else '' -%}
    coalesce({{ p }}published_date, {{ p }}effective_date) <= {{ day }}
{%- endmacro %}

{#- A record stands on `day`: it has taken effect and is known by then. -#}
{% macro stands_on(day, e='') -%}
    {%- set p = e ~ '.' if e else '' -%}
    {{ p }}effective_date <= {{ day }} and {{ known_by(day, e) }}
{%- endmacro %}
