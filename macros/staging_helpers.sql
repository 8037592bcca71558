{#- Helpers for the staging layer, which reads raw text and decides row by row what can be read. -#}

{#- Trimmed text, with empty text as null. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- A fingerprint of a row's values, to tell exact duplicates from conflicting versions. -#}
{% macro row_fingerprint(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(" ~ column ~ ", '\u2205')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{#- The rejection reasons of a row, joined by '；', or null when there is none. -#}
{% macro join_reasons(reason_expressions) -%}
    nullif(concat_ws('；', {{ reason_expressions | join(', ') }}), '')
{%- endmacro %}

{#- Reason when a required text is missing. -#}
{% macro reason_if_missing(column, label) -%}
    case when {{ column }} is null then '缺少{{ label }}（{{ column }}）' end
{%- endmacro %}

{#- Reason when a present text could not be cast (`typed` is null while `text` is not). -#}
{% macro reason_if_unreadable(text_column, typed_column, label, expected) -%}
    case when {{ text_column }} is not null and {{ typed_column }} is null
        then {{ dbt.concat(["'" ~ label ~ "（" ~ typed_column ~ "）不是" ~ expected ~ "：'", text_column]) }} end
{%- endmacro %}

{#- Reason when an amount cannot be read: negative, or not a plain yuan amount with at most two decimals. -#}
{% macro reason_if_bad_amount(text_column, typed_column, label) -%}
    case
        when {{ subsidy_warehouse.regex_match(text_column, '^-[0-9.]+$') }}
            then {{ dbt.concat(["'" ~ label ~ "（" ~ typed_column ~ "）为负数：'", text_column]) }}
        when {{ text_column }} is not null and {{ typed_column }} is null
            then {{ dbt.concat(["'" ~ label ~ "（" ~ typed_column ~ "）不是金额（元，最多两位小数）：'", text_column]) }}
    end
{%- endmacro %}

{#- Reason when a value is not one of the allowed codes. -#}
{% macro reason_if_not_in(column, allowed, label) -%}
    case when {{ column }} is not null and {{ column }} not in ('{{ allowed | join("', '") }}')
        then {{ dbt.concat(["'" ~ label ~ "（" ~ column ~ "）取值无效：'", column]) }} end
{%- endmacro %}

{#- True when rows sharing this id differ in any value (conflicting versions). -#}
{% macro has_conflicting_versions(id_column) -%}
    ({{ id_column }} is not null
        and min(row_fingerprint) over (partition by {{ id_column }})
            <> max(row_fingerprint) over (partition by {{ id_column }}))
{%- endmacro %}

{#- How a row ends up: conflicting versions of one id are all rejected; exact copies collapse onto the
    first; a row with any unreadable value is rejected; the rest is staged. -#}
{% macro row_disposition(id_column) -%}
    case
        when {{ subsidy_warehouse.has_conflicting_versions(id_column) }} then 'rejected'
        when {{ id_column }} is not null
            and source_row_number > min(source_row_number) over (partition by {{ id_column }})
            then 'collapsed_duplicate'
        when value_rejection_reason is not null then 'rejected'
        else 'staged'
    end
{%- endmacro %}

{#- Reason for a row, adding the conflicting-versions reason to the value reasons. -#}
{% macro disposition_reason(id_column, id_label) -%}
    case
        when {{ subsidy_warehouse.has_conflicting_versions(id_column) }}
            then {{ dbt.concat([
                "'" ~ id_label ~ "出现多次且内容不一致，所有版本均拒收'",
                "coalesce(" ~ dbt.concat(["'；'", "value_rejection_reason"]) ~ ", '')"]) }}
        else value_rejection_reason
    end
{%- endmacro %}

{#- Number of rows sharing this id (1 for a unique id, null when the id is missing). -#}
{% macro id_copies(id_column) -%}
    case when {{ id_column }} is not null then count(*) over (partition by {{ id_column }}) end
{%- endmacro %}

{#- Raw values of a row as a JSON object, for the rejects table. -#}
{% macro json_object_of(columns) -%}
    {{ return(adapter.dispatch('json_object_of', 'subsidy_warehouse')(columns)) }}
{%- endmacro %}

{% macro default__json_object_of(columns) -%}
    cast(json_object({% for key, expression in columns %}'{{ key }}', {{ expression }}{{ ", " if not loop.last }}{% endfor %}) as varchar)
{%- endmacro %}

{% macro postgres__json_object_of(columns) -%}
    json_build_object({% for key, expression in columns %}'{{ key }}', {{ expression }}{{ ", " if not loop.last }}{% endfor %})::text
{%- endmacro %}

{% macro spark__json_object_of(columns) -%}
    to_json(named_struct({% for key, expression in columns %}'{{ key }}', {{ expression }}{{ ", " if not loop.last }}{% endfor %}))
{%- endmacro %}
