{#- Schemas are used as written (staging, intermediate, marts, audit, policy), not prefixed with the
    target schema, so analysts always write `marts.fct_awards`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
