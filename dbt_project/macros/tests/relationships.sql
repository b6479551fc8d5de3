{#- dbt's `relationships` test, with the parent read only for the child's values. dbt's own
    version joins the child to the whole parent: on an incremental build the child is bounded by
    the night (get_where_subquery in build_plan.sql) but the parent is not, so the test read all
    of int_events_in_force (5M events: ~1 s a test) to check a few thousand ids. Restricting the
    parent to the values the child holds cannot change which child values lack a parent. -#}
{% macro default__test_relationships(model, column_name, to, field) %}

with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),

parent as (
    select {{ field }} as to_field
    from {{ to }}
    where {{ field }} in (select c.from_field from child as c)
)

select
    from_field

from child
left join parent
    on child.from_field = parent.to_field

where parent.to_field is null

{% endmacro %}
