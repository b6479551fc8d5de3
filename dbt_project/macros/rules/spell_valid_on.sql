{#- A validity spell (int_designation_spells) holds on `day`: it started on or before it and has
    not ended (valid_to is exclusive; null = open-ended). `spell` is the spells' alias, or '' for
    unqualified columns. -#}
{% macro spell_valid_on(day, spell='s') -%}
    {%- set p = spell ~ '.' if spell else '' -%}
    {{ p }}valid_from <= {{ day }} and ({{ p }}valid_to is null or {{ p }}valid_to > {{ day }})
{%- endmacro %}
