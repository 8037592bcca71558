{#- Personal identifiers (resident ID, passport) never leave the raw layer in clear. Each macro has its twin
    in src/subsidy_warehouse/identifiers.py, and the tests hold the two to the same answers. -#}

{#- Full-width digits and Latin letters folded to ASCII, whitespace of any kind removed: an identifier as
    bureaus mean it, however it was typed (identifiers.fold_identifier). -#}
{% macro fold_identifier(expression) -%}
    {%- set ascii = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' -%}
    {%- set full_width = '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ' -%}
    {#- translate is slow on long maps: only text with a non-ASCII character goes through it -#}
    {{ subsidy_warehouse.regex_replace_all(
        "case when " ~ subsidy_warehouse.has_non_ascii(expression) ~ " then translate(" ~ expression ~ ", '"
            ~ full_width ~ "', '" ~ ascii ~ "') else " ~ expression ~ " end",
        whitespace_class() ~ '+', '') }}
{%- endmacro %}

{#- True when `text` holds a character outside ASCII (it has more bytes than characters). -#}
{% macro has_non_ascii(text) -%}
    {{ return(adapter.dispatch('has_non_ascii', 'subsidy_warehouse')(text)) }}
{%- endmacro %}

{% macro default__has_non_ascii(text) -%}
    (octet_length({{ text }}) <> char_length({{ text }}))
{%- endmacro %}

{% macro duckdb__has_non_ascii(text) -%}
    (strlen({{ text }}) <> length({{ text }}))
{%- endmacro %}

{% macro spark__has_non_ascii(text) -%}
    (octet_length({{ text }}) <> length({{ text }}))
{%- endmacro %}

{#- Every kind of whitespace an identifier may carry: ASCII blanks, no-break and ideographic spaces. -#}
{% macro whitespace_class() -%}
    {{ return(adapter.dispatch('whitespace_class', 'subsidy_warehouse')()) }}
{%- endmacro %}

{% macro default__whitespace_class() -%}
    {{ return('[ \\t\\n\\r\\f\\v\\x{00A0}\\x{3000}]') }}
{%- endmacro %}

{#- PostgreSQL's regular expressions write a code point as \uXXXX. -#}
{% macro postgres__whitespace_class() -%}
    {{ return('[ \\t\\n\\r\\f\\v\\u00A0\\u3000]') }}
{%- endmacro %}

{#- A beneficiary identifier as compared everywhere: `folded` (fold_identifier, upper case) with a
    15-digit first-generation resident ID turned into its 18-digit form, so that one person is one person. -#}
{% macro normalised_beneficiary_id(folded) -%}
    case
        when {{ subsidy_warehouse.is_first_generation_id(folded) }}
            then {{ subsidy_warehouse.upgraded_first_generation_id(folded) }}
        else {{ folded }}
    end
{%- endmacro %}

{#- A stable, salted pseudonym for a (normalised) beneficiary identifier: the join key between raw files,
    which never carries the identifier itself. -#}
{% macro beneficiary_ref_hash(normalised_id) -%}
    substr({{ subsidy_warehouse.sha256_hex(dbt.concat(["'" ~ var('id_hash_salt') ~ "|'", normalised_id])) }}, 1, 32)
{%- endmacro %}

{#- The identifier people see for a person: 'P' and the first 15 characters of the pseudonym. -#}
{% macro person_pseudonym(normalised_id) -%}
    {{ dbt.concat(["'P'", "substr(" ~ subsidy_warehouse.beneficiary_ref_hash(normalised_id) ~ ", 1, 15)"]) }}
{%- endmacro %}

{#- A masked rendering for display: first 4 and last 2 characters, the rest as '*'. -#}
{% macro mask_identifier(raw_id) -%}
    case
        when {{ raw_id }} is null then null
        when {{ dbt.length(raw_id) }} <= 6 then '******'
        else {{ dbt.concat([
            "substr(" ~ raw_id ~ ", 1, 4)",
            "repeat('*', " ~ dbt.length(raw_id) ~ " - 6)",
            "substr(" ~ raw_id ~ ", " ~ dbt.length(raw_id) ~ " - 1, 2)"]) }}
    end
{%- endmacro %}

{#- `text` with every resident ID number written in it (a run of 15 or 17 digits and a check character
    that looks_like_resident_id accepts) replaced by the holder's pseudonym: the same person's pseudonym in
    every column, so keys that hold one still join. -#}
{% macro pseudonymise_personal_ids(text) -%}
    {{ return(adapter.dispatch('pseudonymise_personal_ids', 'subsidy_warehouse')(text)) }}
{%- endmacro %}

{% macro default__pseudonymise_personal_ids(text) -%}
    {%- set token = 'id_token' -%}
    {%- set normalised = "case when length(" ~ token ~ ") = 15 then "
        ~ subsidy_warehouse.upgraded_first_generation_id(token) ~ " else upper(" ~ token ~ ") end" -%}
    case when {{ subsidy_warehouse.regex_match(text, '[0-9]{15}') }} then list_reduce(
        list_concat([{{ text }}], list_filter(
            regexp_extract_all({{ text }}, '[0-9]{15,}[Xx]?'),
            lambda {{ token }}: {{ subsidy_warehouse.looks_like_resident_id(token) }})),
        lambda pseudonymised, {{ token }}: replace(pseudonymised, {{ token }}, {{ subsidy_warehouse.person_pseudonym(normalised) }}))
    else {{ text }} end
{%- endmacro %}

{#- PostgreSQL has no list reduce: the same left-to-right replacements as a recursive CTE over the numbers
    found, in the order they are written. -#}
{% macro postgres__pseudonymise_personal_ids(text) -%}
    {%- set token = 'id_token' -%}
    {%- set normalised = "case when length(" ~ token ~ ") = 15 then "
        ~ subsidy_warehouse.upgraded_first_generation_id(token) ~ " else upper(" ~ token ~ ") end" -%}
    case when {{ subsidy_warehouse.regex_match(text, '[0-9]{15}') }} then (
        with recursive found as (
            select found_token.{{ token }}, row_number() over (order by found_match.found_at) as step
            from regexp_matches({{ text }}, '[0-9]{15,}[Xx]?', 'g') with ordinality as found_match (parts, found_at)
            cross join lateral (select found_match.parts[1] as {{ token }}) as found_token
            where {{ subsidy_warehouse.looks_like_resident_id(token) }}
        ),
        replaced (step, pseudonymised) as (
            select cast(0 as bigint), cast({{ text }} as text)
            union all
            select found.step, replace(replaced.pseudonymised, found.{{ token }}, {{ subsidy_warehouse.person_pseudonym(normalised) }})
            from replaced inner join found on found.step = replaced.step + 1
        )
        select pseudonymised from replaced order by step desc limit 1
    ) else {{ text }} end
{%- endmacro %}

{#- Spark: aggregate() is the list reduce. -#}
{% macro spark__pseudonymise_personal_ids(text) -%}
    {%- set token = 'id_token' -%}
    {%- set normalised = "case when length(" ~ token ~ ") = 15 then "
        ~ subsidy_warehouse.upgraded_first_generation_id(token) ~ " else upper(" ~ token ~ ") end" -%}
    case when {{ subsidy_warehouse.regex_match(text, '[0-9]{15}') }} then aggregate(
        filter(regexp_extract_all({{ text }}, '([0-9]{15,}[Xx]?)', 1),
            {{ token }} -> {{ subsidy_warehouse.looks_like_resident_id(token) }}),
        {{ text }},
        (pseudonymised, {{ token }}) -> replace(pseudonymised, {{ token }}, {{ subsidy_warehouse.person_pseudonym(normalised) }}))
    else {{ text }} end
{%- endmacro %}

{#- Select-list items `expression as name` for every (name, expression) pair, with every resident ID number
    in the values pseudonymised (pseudonymise_personal_ids). On DuckDB a row without any 15-digit run costs
    one regex over its joined values. -#}
{% macro pseudonymised_columns(columns) -%}
    {{ return(adapter.dispatch('pseudonymised_columns', 'subsidy_warehouse')(columns)) }}
{%- endmacro %}

{% macro default__pseudonymised_columns(columns) -%}
    {%- for name, expression in columns %}
    {{ subsidy_warehouse.pseudonymise_personal_ids(expression) }} as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro duckdb__pseudonymised_columns(columns) -%}
    {#- one regex per row finds the rows that hold a 15-digit run; only their values go through the check -#}
    {%- set values = [] -%}
    {%- for name, expression in columns %}{% do values.append(expression) %}{% endfor -%}
    {{ subsidy_warehouse.regex_match("concat_ws('|', " ~ (values | join(', ')) ~ ")", '[0-9]{15}') }} as _holds_long_number,
    {%- for name, expression in columns %}
    case when _holds_long_number then {{ subsidy_warehouse.pseudonymise_personal_ids(expression) }}
        else {{ expression }} end as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
