{#- Cap kind 4, loan-interest subsidy at the LPR:
    principal × LPR% in force on the start date × days(start → end) / 365, rounded half up to the cent,
    and never more than the interest actually paid (the base amount). `lpr_pct` is the 1-year or
    5-year rate chosen by the caller from seed policy_lpr_rates. -#}
{% macro lpr_interest_limit(principal, lpr_pct, start_on, end_on, interest_paid) -%}
    least(
        {{ subsidy_warehouse.divide_round_half_up(
            principal ~ " * " ~ lpr_pct ~ " * " ~ dbt.datediff(start_on, end_on, 'day'),
            36500) }},
        {{ interest_paid }}
    )
{%- endmacro %}
