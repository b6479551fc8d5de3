{#- What a clause pays at most once for, the one definition (registry/catalog/model.py REPEAT_PER):
    the key among one firm's rows of one clause; int_entitlement_decisions pays the first qualifying
    row of each key. `repeat_per` is the clause's column, `k` the alias of the triggered rows, `tenant`
    the tenant's uscc for awards paid to an incubator.
      firm, level    once per firm (each level is its own clause)
      program        once per product / list / centre (the trigger's program)
      designation    each new designation (republications are excluded before, in int_clause_conditions)
      grant          each triggering fact (a grant paid, a loan)
      project        each project: its document_ref (a row without one is a project of its own)
      project_year   each project and fiscal year
      fiscal_year    each fiscal year
      tenant         each tenant (across incubators) -#}
{% macro repeat_key(repeat_per, k, tenant) -%}
    case {{ repeat_per }}
        when 'firm' then ''
        when 'level' then ''
        when 'program' then coalesce({{ k }}.trigger_program, '')
        when 'designation' then {{ k }}.trigger_event_id
        when 'grant' then {{ k }}.trigger_event_id
        when 'project' then coalesce({{ k }}.trigger_document_ref, {{ k }}.trigger_event_id)
        when 'project_year'
            then coalesce({{ k }}.trigger_document_ref, {{ k }}.trigger_event_id) || '|'
                || cast({{ k }}.trigger_year as {{ dbt.type_string() }})
        when 'fiscal_year' then cast({{ k }}.trigger_year as {{ dbt.type_string() }})
        when 'tenant' then {{ tenant }}
    end
{%- endmacro %}
