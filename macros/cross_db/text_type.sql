{#- The type of text of any length: VARCHAR, or STRING on Spark (which wants a length after VARCHAR). -#}
{% macro text_type() -%}
    {{ return(adapter.dispatch('text_type', 'subsidy_warehouse')()) }}
{%- endmacro %}

{% macro default__text_type() -%}
    {{ return('varchar') }}
{%- endmacro %}

{% macro spark__text_type() -%}
    {{ return('string') }}
{%- endmacro %}

{#- The incremental strategy of a model keyed on `unique_key`: delete+insert, or append on Spark, whose
    builds are always full (spark.py drops the databases first), so that no row is ever appended twice. -#}
{% macro keyed_incremental_strategy() -%}
    {{ return('append' if target.type == 'spark' else 'delete+insert') }}
{%- endmacro %}
