{#- Money is yuan with cents, never float. One record's amount is DECIMAL(18,2) (the raw contract keeps it
    below one trillion yuan); a total over any number of records is DECIMAL(38,2), so that no input, however
    many rows it holds, can overflow a sum and stop the build. -#}
{% macro money_total(expression) -%}
    cast({{ expression }} as decimal(38, 2))
{%- endmacro %}
