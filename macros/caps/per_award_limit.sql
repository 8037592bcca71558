{#- Cap kind 1, per-award maximum: a fixed ceiling on one award. Null means the clause sets none. -#}
{% macro per_award_limit(per_award_cap) -%}
    cast({{ per_award_cap }} as decimal(18, 2))
{%- endmacro %}
