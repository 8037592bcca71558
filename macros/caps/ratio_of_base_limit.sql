{#- Cap kind 2, share of a base amount: ratio × base (R&D increment, investment, expenditure …),
    rounded half up to the cent. Null when the clause has no ratio; null base is a missing basis. -#}
{% macro ratio_of_base_limit(base_ratio, base_amount) -%}
    case
        when {{ base_ratio }} is not null and {{ base_amount }} is not null
            then cast(round({{ base_ratio }} * {{ base_amount }}, 2) as decimal(18, 2))
    end
{%- endmacro %}
