{#- Cap kind 6, once-only awards (一次性): true for an approved application of a once-only clause when an
    earlier one in the same scope (`partition_by`, in `order_by` order) counted, i.e. was itself worth more
    than 0 (`counts`: an earlier application that was ineligible or approved at 0 does not use the award up).
    Such a repeat is eligible for nothing. -#}
{% macro is_repeat_of_once_only(is_once_only, counts, partition_by, order_by) -%}
    ({{ is_once_only }} and {{ running_cap_cumulative_before(
        "case when " ~ counts ~ " then 1 else 0 end", partition_by, order_by) }} > 0)
{%- endmacro %}

{#- Exclusive clauses (stacking = exclusive: a beneficiary gets one of them only, 分别…只享受一类): true for an
    award of an exclusive clause when an earlier award of the beneficiary that `counts` was under another
    clause of the same `exclusive_group`. Null group: the clause stacks, never excluded. -#}
{% macro is_excluded_by_earlier_clause(exclusive_group, counts, beneficiary, order_by) -%}
    ({{ exclusive_group }} is not null and (
        {{ running_cap_cumulative_before(
            "case when " ~ counts ~ " then 1 else 0 end", beneficiary ~ ", " ~ exclusive_group, order_by) }}
        - {{ running_cap_cumulative_before(
            "case when " ~ counts ~ " then 1 else 0 end", beneficiary ~ ", " ~ exclusive_group ~ ", clause_code", order_by) }}
    ) > 0)
{%- endmacro %}
