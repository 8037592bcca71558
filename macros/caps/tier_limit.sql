{#- Cap kind 3, tiers: the amount of the recognised tier, looked up in seed policy_clause_tiers.
    `tier_amount` comes from a left join on (clause_code, tier); it is null when the clause is not
    tiered, and a tiered clause whose tier is unknown counts as a missing basis (see missing_basis). -#}
{% macro tier_limit(uses_tiers, tier_amount) -%}
    case when {{ uses_tiers }} then cast({{ tier_amount }} as decimal(18, 2)) end
{%- endmacro %}
