{#- Schemas are used as written (staging, intermediate, marts, audit, policy), not prefixed with the
    target schema, so analysts always write `marts.fct_awards`. A PostgreSQL build sets the var
    build_schema_suffix ('__build'): it writes fresh schemas beside the live ones and swaps them in at the
    end, in one transaction (engines.py). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}{{ var('build_schema_suffix', '') }}
    {%- endif -%}
{%- endmacro %}
