{#- Cap kind 6, once-only awards (一次性): true for every approved application of a once-only clause
    after the beneficiary's first one, in `order_by` order; such a repeat is eligible for nothing. -#}
{% macro is_repeat_of_once_only(is_once_only, partition_by, order_by) -%}
    ({{ is_once_only }} and row_number() over (partition by {{ partition_by }} order by {{ order_by }}) > 1)
{%- endmacro %}
