{#- True when `expression` matches the regular expression `pattern` (anchor it with ^ and $). -#}
{% macro regex_match(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_match', 'subsidy_warehouse')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_match(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__regex_match(expression, pattern) -%}
    ({{ expression }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro spark__regex_match(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern }}')
{%- endmacro %}
