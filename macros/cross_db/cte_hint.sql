{#- `with name as {{ cte_hint('materialized') }} (…)` or `{{ cte_hint('not materialized') }}`: how a CTE is
    computed, where the optimizer's own choice is costly. Spark SQL has neither keyword (and caches nothing by
    them): there the hint is empty.

    materialized: computed once even when the optimizer would inline it into each of its readers. The base
    models read their checked rows twice (the rows themselves and the repeated identifiers); DuckDB inlined
    them and ran every regex of every cell twice more, half of base_raw__applications' time at 1M applications.

    not materialized: read where it is used, never copied, even when read twice. DuckDB (and PostgreSQL) keep
    a copy of a CTE that more than one part of the query reads; where the CTE is a whole wide table of awards
    and one reader needs a few of its columns, that copy of every column of every row cost a fifth of
    int_awards_capped's time and a third of its memory at 1M applications, and spilled to disk at 10M. -#}
{% macro cte_hint(hint) -%}
    {{ return(adapter.dispatch('cte_hint', 'subsidy_warehouse')(hint)) }}
{%- endmacro %}

{% macro default__cte_hint(hint) -%}
    {{ return(hint) }}
{%- endmacro %}

{% macro spark__cte_hint(hint) -%}
    {{ return('') }}
{%- endmacro %}
