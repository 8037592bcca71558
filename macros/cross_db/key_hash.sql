{#- A 64-bit hash of one or more expressions, for keys that only group rows (a daily load's walk over cap
    scopes): equal inputs hash equal; two different inputs that happen to collide are grouped together, so a
    caller may use it only where a larger group is still correct (recomputing more, never less). -#}
{% macro key_hash(expressions) -%}
    {{ return(adapter.dispatch('key_hash', 'subsidy_warehouse')(expressions)) }}
{%- endmacro %}

{% macro default__key_hash(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}

{% macro postgres__key_hash(expressions) -%}
    hashtextextended(concat_ws(chr(31), {{ expressions | join(', ') }}), 0)
{%- endmacro %}

{% macro spark__key_hash(expressions) -%}
    xxhash64({{ expressions | join(', ') }})
{%- endmacro %}
