{#- Cap kind 2, share of a base amount: ratio × base (R&D increment, investment, expenditure …),
    rounded half up to the cent. Null when the clause has no ratio; null base is a missing basis. -#}
{% macro ratio_of_base_limit(base_ratio, base_amount) -%}
    {#- cast outside the case: on PostgreSQL a case whose else is null drops the operands' scale -#}
    cast(case
        when {{ base_ratio }} is not null and {{ base_amount }} is not null
            then round({{ base_ratio }} * {{ base_amount }}, 2)
    end as decimal(18, 2))
{%- endmacro %}
