{#- `with name as {{ materialized_cte() }} (…)`: the CTE is computed once even when the optimizer would
    inline it into each of its readers. The base models read their checked rows twice (the rows themselves
    and the repeated identifiers); DuckDB inlined them and ran every regex of every cell twice more, half
    of base_raw__applications' time at 1M applications. Spark SQL has no such keyword (and caches nothing
    by it): there it is empty. -#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'subsidy_warehouse')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}
    {{ return('materialized') }}
{%- endmacro %}

{% macro spark__materialized_cte() -%}
    {{ return('') }}
{%- endmacro %}
