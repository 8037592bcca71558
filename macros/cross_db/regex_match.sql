{#- True when `expression` matches the regular expression `pattern` (anchor it with ^ and $ for a whole
    match). Patterns use the syntax the engines share: classes, repetition, alternation, no look-around. -#}
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
    ({{ expression }} rlike '{{ pattern | replace("\\", "\\\\") }}')
{%- endmacro %}

{#- `expression` with every match of `pattern` replaced by `replacement`. -#}
{% macro regex_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'subsidy_warehouse')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern | replace("\\", "\\\\") }}', '{{ replacement }}')
{%- endmacro %}
