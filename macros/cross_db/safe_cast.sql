{#- Casts that return null instead of failing, for text read from raw files. Each guards the text with
    the contract's format first, so `1e3`, `2025/3/1` or ` 12` are not quietly accepted, and casts with
    try_cast (or the engine's equivalent), so that no text can stop the build. -#}

{#- Integer digits an amount may have: below one trillion yuan (万亿), far above any award or base, so that
    no product of the cap arithmetic overflows DECIMAL(18,2). The contract in the README says the same. -#}
{% macro money_integer_digits() -%}
    {{ return(12) }}
{%- endmacro %}

{% macro safe_to_date(expression) -%}
    {{ return(adapter.dispatch('safe_to_date', 'subsidy_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__safe_to_date(expression) -%}
    case when {{ subsidy_warehouse.regex_match(expression, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') }}
        then try_cast({{ expression }} as date) end
{%- endmacro %}

{#- PostgreSQL 15 has no try_cast: the date is cast only when its month and day exist (year 1 onwards;
    DuckDB would also read year 0, which no record of this policy has). -#}
{% macro postgres__safe_to_date(expression) -%}
    case when {{ subsidy_warehouse.regex_match(expression, '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$') }}
        and substr({{ expression }}, 1, 4) <> '0000'
        and cast(substr({{ expression }}, 9, 2) as integer) <= extract(day from
            make_date(cast(substr({{ expression }}, 1, 4) as integer), cast(substr({{ expression }}, 6, 2) as integer), 1)
            + interval '1 month' - interval '1 day')
        then cast({{ expression }} as date) end
{%- endmacro %}

{#- Money: plain non-negative decimal with at most two decimals, as DECIMAL(18,2). -#}
{% macro safe_to_money(expression) -%}
    {{ return(adapter.dispatch('safe_to_money', 'subsidy_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__safe_to_money(expression) -%}
    case when {{ subsidy_warehouse.regex_match(expression, '^[0-9]{1,' ~ money_integer_digits() ~ '}([.][0-9]{1,2})?$') }}
        then try_cast({{ expression }} as decimal(18, 2)) end
{%- endmacro %}

{#- PostgreSQL 15 has no try_cast; the format guard already leaves only text the cast reads. -#}
{% macro postgres__safe_to_money(expression) -%}
    case when {{ subsidy_warehouse.regex_match(expression, '^[0-9]{1,' ~ money_integer_digits() ~ '}([.][0-9]{1,2})?$') }}
        then cast({{ expression }} as decimal(18, 2)) end
{%- endmacro %}

{% macro safe_to_integer(expression) -%}
    {{ return(adapter.dispatch('safe_to_integer', 'subsidy_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__safe_to_integer(expression) -%}
    case when {{ subsidy_warehouse.regex_match(expression, '^[0-9]{1,9}$') }}
        then try_cast({{ expression }} as integer) end
{%- endmacro %}

{% macro postgres__safe_to_integer(expression) -%}
    case when {{ subsidy_warehouse.regex_match(expression, '^[0-9]{1,9}$') }}
        then cast({{ expression }} as integer) end
{%- endmacro %}
