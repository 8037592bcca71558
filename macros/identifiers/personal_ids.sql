{#- Personal identifiers (resident ID, passport) never leave the raw layer in clear. Each macro has its twin
    in src/subsidy_warehouse/identifiers.py, and the tests hold the two to the same answers. -#}

{#- Full-width digits and Latin letters folded to ASCII, whitespace of any kind removed: an identifier as
    bureaus mean it, however it was typed (identifiers.fold_identifier). -#}
{% macro fold_identifier(expression) -%}
    {{ subsidy_warehouse.regex_replace_all(subsidy_warehouse.fold_full_width(expression), whitespace_class() ~ '+', '') }}
{%- endmacro %}

{#- Full-width digits and Latin letters folded to ASCII, one character for one (identifiers.FULL_WIDTH). -#}
{% macro fold_full_width(expression) -%}
    {%- set ascii = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' -%}
    {%- set full_width = '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ' -%}
    {#- translate is slow on long maps: only text with a non-ASCII character goes through it -#}
    case when {{ subsidy_warehouse.has_non_ascii(expression) }} then translate({{ expression }}, '{{ full_width }}', '{{ ascii }}')
        else {{ expression }} end
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

{#- A number as people write one in a text: 15 or more digits, ASCII or full-width, single blanks, dashes or
    dots between them (330102 19870101 0035, 110105-19491231-002X), maybe closed by an X. The pattern of
    identifiers.WRITTEN_NUMBER, in the syntax every engine shares. -#}
{% macro written_number_pattern() -%}
    {{ return('[0-9０-９](?:[ .． 　－-]?[0-9０-９]){14,}[XxＸｘ]?') }}
{%- endmacro %}

{#- A written number (written_number_pattern) in upper case with full-width characters folded: `spelled`,
    separators kept. Its digits are `spelled` without them. -#}
{% macro written_number_spelled(token) -%}
    upper({{ subsidy_warehouse.fold_full_width(token) }})
{%- endmacro %}

{% macro written_number_digits(spelled) -%}
    {{ subsidy_warehouse.regex_replace_all(spelled, '[^0-9X]', '') }}
{%- endmacro %}

{#- `text` with every resident ID number written in it replaced by the holder's pseudonym: the same person's
    pseudonym in every column, so keys that hold one still join. A written number (written_number_pattern) is
    replaced whole when its digits hold a resident ID (identifiers.resident_id_in): 18 consecutive digits
    whose check character and birth date hold (looks_like_resident_id) anywhere in it, glued to other digits
    or not, or a 15-digit first-generation ID between its separators. -#}
{% macro pseudonymise_personal_ids(text) -%}
    {{ return(adapter.dispatch('pseudonymise_personal_ids', 'subsidy_warehouse')(text)) }}
{%- endmacro %}

{#- The resident ID (normalised: 18 digits, upper case) a written number holds, or null; `spelled` and `digits`
    name the number's written_number_spelled and written_number_digits. The first 18-digit window whose shape
    holds, else the first 15-digit piece between separators; each engine writes the search in its own syntax. -#}
{% macro resident_id_in(spelled, digits) -%}
    {{ return(adapter.dispatch('resident_id_in', 'subsidy_warehouse')(spelled, digits)) }}
{%- endmacro %}

{#- DuckDB's list functions. -#}
{% macro default__resident_id_in(spelled, digits) -%}
    coalesce(
        list_filter(
            list_transform(range(1, length({{ digits }}) - 16), lambda id_at: substr({{ digits }}, id_at, 18)),
            lambda id_window: {{ subsidy_warehouse.resident_id_shape_holds('id_window') }})[1],
        list_transform(
            list_filter(string_split_regex({{ spelled }}, '[^0-9X]+'),
                lambda id_piece: {{ subsidy_warehouse.is_first_generation_id('id_piece') }}),
            lambda id_piece: {{ subsidy_warehouse.upgraded_first_generation_id('id_piece') }})[1])
{%- endmacro %}

{#- PostgreSQL: scalar subqueries over the windows and the pieces, in order. -#}
{% macro postgres__resident_id_in(spelled, digits) -%}
    coalesce(
        (select substr({{ digits }}, id_at, 18)
            from generate_series(1, length({{ digits }}) - 17) as id_at
            where {{ subsidy_warehouse.resident_id_shape_holds('substr(' ~ digits ~ ', id_at, 18)') }}
            order by id_at limit 1),
        (select {{ subsidy_warehouse.upgraded_first_generation_id('id_piece') }}
            from regexp_split_to_table({{ spelled }}, '[^0-9X]+') with ordinality as pieces (id_piece, piece_at)
            where {{ subsidy_warehouse.is_first_generation_id('id_piece') }}
            order by piece_at limit 1))
{%- endmacro %}

{#- Spark: aggregate() picks the first of a list (an index past the end fails in ANSI mode). -#}
{% macro spark__resident_id_in(spelled, digits) -%}
    {%- set first = "aggregate(%s, cast(null as string), (first_found, id_next) -> coalesce(first_found, id_next))" -%}
    coalesce(
        {{ first | format("filter(transform(sequence(1, greatest(length(" ~ digits ~ ") - 17, 1)),
            id_at -> substr(" ~ digits ~ ", id_at, 18)),
            id_window -> " ~ subsidy_warehouse.resident_id_shape_holds('id_window') ~ ")") }},
        {{ first | format("transform(filter(split(" ~ spelled ~ ", '[^0-9X]+'),
            id_piece -> " ~ subsidy_warehouse.is_first_generation_id('id_piece') ~ "),
            id_piece -> " ~ subsidy_warehouse.upgraded_first_generation_id('id_piece') ~ ")") }})
{%- endmacro %}

{% macro default__pseudonymise_personal_ids(text) -%}
    {%- set pattern = subsidy_warehouse.written_number_pattern() -%}
    {%- set spelled = subsidy_warehouse.written_number_spelled('id_token') -%}
    case when {{ subsidy_warehouse.regex_match(text, pattern) }} then list_reduce(
        list_concat([{'written': {{ text }}, 'resident_id': cast(null as varchar)}], list_filter(
            list_transform(
                list_transform(regexp_extract_all({{ text }}, '{{ pattern }}'), lambda id_token: {
                    'written': id_token,
                    'spelled': {{ spelled }},
                    'digits': {{ subsidy_warehouse.written_number_digits(spelled) }}}),
                lambda id_number: {
                    'written': id_number.written,
                    'resident_id': {{ subsidy_warehouse.resident_id_in('id_number.spelled', 'id_number.digits') }}}),
            lambda id_found: id_found.resident_id is not null)),
        lambda pseudonymised, id_found: {
            'written': replace(pseudonymised.written, id_found.written, {{ subsidy_warehouse.person_pseudonym('id_found.resident_id') }}),
            'resident_id': cast(null as varchar)}).written
    else {{ text }} end
{%- endmacro %}

{#- PostgreSQL has no list reduce: the same left-to-right replacements as a recursive CTE over the numbers
    found, in the order they are written. -#}
{% macro postgres__pseudonymise_personal_ids(text) -%}
    {%- set pattern = subsidy_warehouse.written_number_pattern() -%}
    case when {{ subsidy_warehouse.regex_match(text, pattern) }} then (
        with recursive found as (
            select found_token.id_token, found_id.resident_id, row_number() over (order by found_match.found_at) as step
            from regexp_matches({{ text }}, '{{ pattern }}', 'g') with ordinality as found_match (parts, found_at)
            cross join lateral (select found_match.parts[1] as id_token) as found_token
            cross join lateral (select {{ subsidy_warehouse.written_number_spelled('found_token.id_token') }} as id_spelled) as spelled
            cross join lateral (select {{ subsidy_warehouse.written_number_digits('spelled.id_spelled') }} as id_digits) as digits
            cross join lateral (
                select {{ subsidy_warehouse.resident_id_in('spelled.id_spelled', 'digits.id_digits') }} as resident_id
            ) as found_id
            where found_id.resident_id is not null
        ),
        replaced (step, pseudonymised) as (
            select cast(0 as bigint), cast({{ text }} as text)
            union all
            select found.step, replace(replaced.pseudonymised, found.id_token, {{ subsidy_warehouse.person_pseudonym('found.resident_id') }})
            from replaced inner join found on found.step = replaced.step + 1
        )
        select pseudonymised from replaced order by step desc limit 1
    ) else {{ text }} end
{%- endmacro %}

{#- Spark: aggregate() is the list reduce. -#}
{% macro spark__pseudonymise_personal_ids(text) -%}
    {%- set pattern = subsidy_warehouse.written_number_pattern() -%}
    {%- set spelled = subsidy_warehouse.written_number_spelled('id_token') -%}
    case when {{ subsidy_warehouse.regex_match(text, pattern) }} then aggregate(
        filter(
            transform(
                transform(regexp_extract_all({{ text }}, '({{ pattern }})', 1), id_token -> named_struct(
                    'written', id_token,
                    'spelled', {{ spelled }},
                    'digits', {{ subsidy_warehouse.written_number_digits(spelled) }})),
                id_number -> named_struct(
                    'written', id_number.written,
                    'resident_id', {{ subsidy_warehouse.resident_id_in('id_number.spelled', 'id_number.digits') }})),
            id_found -> id_found.resident_id is not null),
        {{ text }},
        (pseudonymised, id_found) -> replace(pseudonymised, id_found.written, {{ subsidy_warehouse.person_pseudonym('id_found.resident_id') }}))
    else {{ text }} end
{%- endmacro %}

{#- Select-list items `expression as name` for every (name, expression) pair, with every resident ID number
    in the values pseudonymised (pseudonymise_personal_ids). On DuckDB a row without any written number as
    long as an ID costs one regex over its joined values. -#}
{% macro pseudonymised_columns(columns) -%}
    {{ return(adapter.dispatch('pseudonymised_columns', 'subsidy_warehouse')(columns)) }}
{%- endmacro %}

{% macro default__pseudonymised_columns(columns) -%}
    {%- for name, expression in columns %}
    {{ subsidy_warehouse.pseudonymise_personal_ids(expression) }} as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro duckdb__pseudonymised_columns(columns) -%}
    {#- one regex per row finds the rows that hold a written number; only their values go through the check -#}
    {%- set values = [] -%}
    {%- for name, expression in columns %}{% do values.append(expression) %}{% endfor -%}
    {{ subsidy_warehouse.regex_match("concat_ws('|', " ~ (values | join(', ')) ~ ")", subsidy_warehouse.written_number_pattern()) }} as _holds_long_number,
    {%- for name, expression in columns %}
    case when _holds_long_number then {{ subsidy_warehouse.pseudonymise_personal_ids(expression) }}
        else {{ expression }} end as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
