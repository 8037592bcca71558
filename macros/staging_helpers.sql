{#- Helpers for the staging layer, which reads raw text and decides row by row what can be read. -#}

{#- Trimmed text, with empty text as null. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- The raw columns as staging keeps them, each resident ID number written in them replaced by its holder's
    pseudonym (pseudonymised_columns): free text trimmed; identifier columns (application, disbursement,
    project, voucher) also full-width folded and without whitespace, as `subsidy load` writes them.
    `columns` is a list of (name, raw column, 'text' | 'identifier'). -#}
{% macro staged_text_columns(columns) -%}
    {%- set cleaned = [] -%}
    {%- for name, column, kind in columns -%}
        {%- if kind == 'identifier' -%}
            {%- do cleaned.append((name, subsidy_warehouse.folded_identifier(column))) -%}
        {%- else -%}
            {%- do cleaned.append((name, subsidy_warehouse.clean_text(column))) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ subsidy_warehouse.pseudonymised_columns(cleaned) }}
{%- endmacro %}

{#- An identifier column folded (fold_identifier), with empty text as null. -#}
{% macro folded_identifier(column) -%}
    nullif({{ subsidy_warehouse.fold_identifier(column) }}, '')
{%- endmacro %}

{#- A beneficiary identifier column folded and in upper case, as every model compares it before
    normalised_beneficiary_id. -#}
{% macro folded_beneficiary_id(column) -%}
    upper({{ subsidy_warehouse.folded_identifier(column) }})
{%- endmacro %}

{#- One identifier column as staged_text_columns stages it, for a daily load's records_to_recompute (which
    computes it for the new records only, so without pseudonymised_columns' one-regex shortcut: the same value). -#}
{% macro staged_identifier(column) -%}
    {{ subsidy_warehouse.pseudonymise_personal_ids(subsidy_warehouse.folded_identifier(column)) }}
{%- endmacro %}

{#- A fingerprint of a row's values, to tell exact duplicates from conflicting versions. -#}
{% macro row_fingerprint(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(" ~ column ~ ", '\u2205')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ subsidy_warehouse.sha256_hex(dbt.concat(parts)) }}
{%- endmacro %}

{#- The rejection reasons of a row, joined by '；', or null when there is none. -#}
{% macro join_reasons(reason_expressions) -%}
    nullif(concat_ws('；', {{ reason_expressions | join(', ') }}), '')
{%- endmacro %}

{#- Reason when a required text is missing; `contract_column` names it as the raw file does. -#}
{% macro reason_if_missing(column, label, contract_column=none) -%}
    case when {{ column }} is null then '缺少{{ label }}（{{ contract_column or column }}）' end
{%- endmacro %}

{#- Reason when a present text could not be cast (`typed` is null while `text` is not). -#}
{% macro reason_if_unreadable(text_column, typed_column, label, expected) -%}
    case when {{ text_column }} is not null and {{ typed_column }} is null
        then {{ dbt.concat(["'" ~ label ~ "（" ~ typed_column ~ "）不是" ~ expected ~ "：'", text_column]) }} end
{%- endmacro %}

{#- Reason when an amount cannot be read: negative, beyond the contract's range, or not a plain yuan amount
    with at most two decimals. -#}
{% macro reason_if_bad_amount(text_column, typed_column, label) -%}
    case
        when {{ text_column }} is null or {{ typed_column }} is not null then null
        when {{ subsidy_warehouse.regex_match(text_column, '^-[0-9.]+$') }}
            then {{ dbt.concat(["'" ~ label ~ "（" ~ typed_column ~ "）为负数：'", text_column]) }}
        when {{ subsidy_warehouse.regex_match(text_column, '^[0-9]{' ~ (money_integer_digits() + 1) ~ ',}([.][0-9]*)?$') }}
            then {{ dbt.concat(["'" ~ label ~ "（" ~ typed_column ~ "）超出合同范围（最多 " ~ money_integer_digits()
                ~ " 位整数，即不到一万亿元）：'", text_column]) }}
        else {{ dbt.concat(["'" ~ label ~ "（" ~ typed_column ~ "）不是金额（元，最多两位小数）：'", text_column]) }}
    end
{%- endmacro %}

{#- Reason when a value is not one of the allowed codes. -#}
{% macro reason_if_not_in(column, allowed, label) -%}
    case when {{ column }} is not null and {{ column }} not in ('{{ allowed | join("', '") }}')
        then {{ dbt.concat(["'" ~ label ~ "（" ~ column ~ "）取值无效：'", column]) }} end
{%- endmacro %}

{#- The identifiers of `relation` written more than once: how many copies, the line of the first, and how
    many different versions. Fingerprints are taken of these rows only, so a file without duplicates costs
    one aggregation. -#}
{% macro repeated_identifiers(relation, id_column, value_columns) -%}
    select
        {{ id_column }},
        count(*) as id_copies,
        min(source_line) as first_source_line,
        count(distinct {{ subsidy_warehouse.row_fingerprint(value_columns) }}) as id_versions
    from {{ relation }}
    where {{ id_column }} in (
        select {{ id_column }} from {{ relation }} group by {{ id_column }} having count(*) > 1
    )
    group by {{ id_column }}
{%- endmacro %}

{#- The disposition columns of a base model, from the row and its `repeated` (repeated_identifiers) row:
    conflicting versions of one id are all rejected; exact copies collapse onto the first; a row with any
    unreadable value is rejected; the rest is staged. -#}
{% macro disposition_columns(id_column, id_label, repeated='repeated') -%}
    case when {{ id_column }} is not null then coalesce({{ repeated }}.id_copies, 1) end as id_copies,
    case when {{ id_column }} is not null then coalesce({{ repeated }}.id_versions, 1) end as id_versions,
    {{ subsidy_warehouse.row_disposition(repeated) }} as row_disposition,
    case
        when {{ repeated }}.id_versions > 1
            then {{ dbt.concat([
                "'" ~ id_label ~ "出现多次且内容不一致，所有版本均拒收'",
                "coalesce(" ~ dbt.concat(["'；'", "value_rejection_reason"]) ~ ", '')"]) }}
        else value_rejection_reason
    end as rejection_reason
{%- endmacro %}

{#- How a row of a base model ends up: 'staged', 'rejected' or 'collapsed_duplicate' (disposition_columns). -#}
{% macro row_disposition(repeated='repeated') -%}
    case
        when {{ repeated }}.id_versions > 1 then 'rejected'
        when source_line > {{ repeated }}.first_source_line then 'collapsed_duplicate'
        when value_rejection_reason is not null then 'rejected'
        else 'staged'
    end
{%- endmacro %}

{#- A raw text column as a base model keeps it: only for the rows that are not staged, which audit.rejected_rows
    shows as they were written; a staged row's value is in its typed column (and its text in raw). Writing these
    columns for every row was a quarter of writing base_raw__applications at 10M applications (3.5 s). -#}
{% macro text_unless_staged(text_column, repeated='repeated') -%}
    case when {{ subsidy_warehouse.row_disposition(repeated) }} <> 'staged' then {{ text_column }} end
{%- endmacro %}

{#- Raw values of a row as a JSON object, for the rejects table. -#}
{% macro json_object_of(columns) -%}
    {{ return(adapter.dispatch('json_object_of', 'subsidy_warehouse')(columns)) }}
{%- endmacro %}

{% macro default__json_object_of(columns) -%}
    cast(json_object({% for key, expression in columns %}'{{ key }}', {{ expression }}{{ ", " if not loop.last }}{% endfor %}) as {{ text_type() }})
{%- endmacro %}

{#- Written out, because json_build_object spaces its output differently from DuckDB's json_object. -#}
{% macro postgres__json_object_of(columns) -%}
    concat('{', {% for key, expression in columns %}'"{{ key }}":', coalesce(to_json({{ expression }})::text, 'null'), {{ "',', " if not loop.last }}{% endfor %}'}')
{%- endmacro %}

{#- Spark's to_json leaves null fields out unless told otherwise. -#}
{% macro spark__json_object_of(columns) -%}
    to_json(named_struct({% for key, expression in columns %}'{{ key }}', {{ expression }}{{ ", " if not loop.last }}{% endfor %}), map('ignoreNullFields', 'false'))
{%- endmacro %}

{#- Every way a bureau is written in the files (its Chinese name or its code) → its code: an equality join,
    where `name in (zh, code)` would compare every record with every bureau. -#}
{% macro bureau_spellings() -%}
    select bureau_name_zh as spelling, bureau_code from {{ ref('policy_bureaus') }}
    union all
    select bureau_code as spelling, bureau_code from {{ ref('policy_bureaus') }}
{%- endmacro %}
