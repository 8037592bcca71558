{#- Cap kind 5, running caps over a scope (project, beneficiary-year, beneficiary lifetime).
    Amounts are let through in `order_by` order, only while they still fit under the cap:
        passed = least(cum_through_this, cap) − least(cum_before_this, cap)
    A null cap lets everything through. Window functions only, so it runs on any engine. -#}

{% macro running_cap_cumulative_before(amount, partition_by, order_by) -%}
    coalesce(sum({{ amount }}) over (
        partition by {{ partition_by }} order by {{ order_by }}
        rows between unbounded preceding and 1 preceding
    ), 0)
{%- endmacro %}

{#- Room left under the cap before this application (null when there is no cap). -#}
{% macro running_cap_room(amount, cap, partition_by, order_by) -%}
    case when {{ cap }} is not null then cast(
        greatest({{ cap }} - {{ subsidy_warehouse.running_cap_cumulative_before(amount, partition_by, order_by) }}, 0)
    as decimal(18, 2)) end
{%- endmacro %}

{#- What of `amount` passes the cap at this application. -#}
{% macro running_cap_passed(amount, cap, partition_by, order_by) -%}
    case
        when {{ cap }} is null then {{ amount }}
        else cast(
            least({{ subsidy_warehouse.running_cap_cumulative_before(amount, partition_by, order_by) }} + {{ amount }}, {{ cap }})
            - least({{ subsidy_warehouse.running_cap_cumulative_before(amount, partition_by, order_by) }}, {{ cap }})
        as decimal(18, 2))
    end
{%- endmacro %}
