{#- Pro-rata share rounded DOWN to the fen, exactly: floor(amount * budget / claimed).
    Exact integer arithmetic on fen, so the shares of a year never add up to more than its
    budget and no fen is lost to floating point. -#}
{% macro prorata_floor_fen(amount, budget, claimed) -%}
    {{ return(adapter.dispatch('prorata_floor_fen')(amount, budget, claimed)) }}
{%- endmacro %}

{% macro default__prorata_floor_fen(amount, budget, claimed) -%}
    cast(floor(cast({{ amount }} as numeric(38, 2)) * {{ budget }} * 100 / {{ claimed }}) as numeric(38, 0)) * 0.01
{%- endmacro %}

{#- adapter: duckdb — decimal division yields DOUBLE in DuckDB, so divide HUGEINT fen instead. -#}
{% macro duckdb__prorata_floor_fen(amount, budget, claimed) -%}
    cast(
        cast({{ amount }} * 100 as hugeint) * cast({{ budget }} * 100 as hugeint) // cast({{ claimed }} * 100 as hugeint)
        as decimal(38, 0)
    ) * 0.01
{%- endmacro %}

{#- adapter: spark — no HUGEINT; integer division (div, a long) of exact decimal(38, 0) fen. The
    product of two fen amounts stays exact below 10^38; the quotient is at most the amount. -#}
{% macro spark__prorata_floor_fen(amount, budget, claimed) -%}
    cast(
        cast({{ amount }} * 100 as decimal(38, 0)) * cast({{ budget }} * 100 as decimal(38, 0))
        div cast({{ claimed }} * 100 as decimal(38, 0))
        as decimal(38, 0)
    ) * 0.01
{%- endmacro %}
