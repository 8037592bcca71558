{#- Cap kind 6, once-only awards (一次性): true for an approved application of a once-only clause when an
    earlier one in the same scope (`partition_by`, in `order_by` order) counted, i.e. was itself worth more
    than 0 (`counts`: an earlier application that was ineligible or approved at 0 does not use the award up).
    Such a repeat is eligible for nothing. -#}
{% macro is_repeat_of_once_only(is_once_only, counts, partition_by, order_by) -%}
    ({{ is_once_only }} and {{ running_cap_cumulative_before(
        "case when " ~ counts ~ " then 1 else 0 end", partition_by, order_by) }} > 0)
{%- endmacro %}

