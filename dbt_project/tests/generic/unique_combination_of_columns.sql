{#- A composite key: no two rows share the same values of `combination_of_columns` (nulls compare
    equal here, so a null in a key column is a duplicate too when it repeats). The same contract
    as dbt_utils.unique_combination_of_columns, which this project cannot install. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set key = combination_of_columns | join(', ') %}
select
    {{ key }},
    count(*) as n_rows
from {{ model }}
group by {{ key }}
having count(*) > 1
{% endtest %}
