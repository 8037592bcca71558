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

{#- `with name as {{ inlined_cte() }} (…)`: the CTE is read where it is used, never copied, even when read
    twice. DuckDB (and PostgreSQL) keep a copy of a CTE that more than one part of the query reads; where the
    CTE is a whole wide table of awards and one reader needs a few of its columns, that copy of every column
    of every row cost a fifth of int_awards_capped's time and a third of its memory at 1M applications, and
    spilled to disk at 10M. -#}
{% macro inlined_cte() -%}
    {{ return(adapter.dispatch('inlined_cte', 'subsidy_warehouse')()) }}
{%- endmacro %}

{% macro default__inlined_cte() -%}
    {{ return('not materialized') }}
{%- endmacro %}

{% macro spark__inlined_cte() -%}
    {{ return('') }}
{%- endmacro %}
