{#- Cap kind 5, running caps over a scope (project, beneficiary-year, beneficiary lifetime).
    Amounts are let through in award order, only while they still fit under the cap:
        passed = least(cum_before + amount, cap) − least(cum_before, cap)
    where cum_before is what the scope let in before this award. A null cap lets everything through.
    The cumulative sum is one window, computed once per cap (running_cap_cumulative_before) and read by
    the two macros below. Window functions only, so it runs on any engine. -#}

{% macro running_cap_cumulative_before(amount, partition_by, order_by) -%}
    coalesce(sum({{ amount }}) over (
        partition by {{ partition_by }} order by {{ order_by }}
        rows between unbounded preceding and 1 preceding
    ), 0)
{%- endmacro %}

{#- Room left under the cap before this award (null when there is no cap). -#}
{% macro running_cap_room(cumulative_before, cap) -%}
    case when {{ cap }} is not null then cast(greatest({{ cap }} - {{ cumulative_before }}, 0) as decimal(18, 2)) end
{%- endmacro %}

{#- What of `amount` passes the cap at this award. -#}
{% macro running_cap_passed(amount, cumulative_before, cap) -%}
    case
        when {{ cap }} is null then {{ amount }}
        else cast(least({{ cumulative_before }} + {{ amount }}, {{ cap }}) - least({{ cumulative_before }}, {{ cap }}) as decimal(18, 2))
    end
{%- endmacro %}
