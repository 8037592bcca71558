{#- Cap kind 4, loan-interest subsidy at the LPR:
    principal × LPR% in force on the start date × days(start → end) / day_count, rounded half up to the
    cent, and never more than the interest actually paid (the base amount). `lpr_pct` is the 1-year or
    5-year rate chosen by the caller from seed policy_lpr_rates; `day_count` is the clause's year of days
    (360: a bank's daily rate is the annual rate ÷ 360; 365 is the other reading). -#}
{% macro lpr_interest_limit(principal, lpr_pct, start_on, end_on, interest_paid, day_count) -%}
    {#- cast outside least(): on PostgreSQL least() drops the operands' scale. The product in DECIMAL(38): the
        largest principal the raw contract allows (12 integer digits) times a rate overflows DuckDB's DECIMAL(18) -#}
    cast(least(
        {{ subsidy_warehouse.divide_round_half_up(
            "cast(" ~ principal ~ " as decimal(38, 2)) * " ~ lpr_pct ~ " * " ~ dbt.datediff(start_on, end_on, 'day'),
            "100 * " ~ day_count) }},
        {{ interest_paid }}
    ) as decimal(18, 2))
{%- endmacro %}
