{#- Identifier checks. Each returns a boolean expression on a text column. -#}

{#- Unified social credit code, GB 32100-2015: 18 characters from the 31-character alphabet, the last
    a check character: 31 − (Σ value(c_i) × w_i mod 31), mapped back through the alphabet. -#}
{% macro is_valid_uscc(code) -%}
    {%- set alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY' -%}
    {%- set weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] -%}
    coalesce(
        {{ subsidy_warehouse.regex_match(code, '^[0-9A-HJ-NPQRTUWXY]{18}$') }}
        and substr({{ code }}, 18, 1) = substr('{{ alphabet }}', mod(31 - mod(
            {%- for weight in weights %}
            ({{ dbt.position("substr(" ~ code ~ ", " ~ loop.index ~ ", 1)", "'" ~ alphabet ~ "'") }} - 1) * {{ weight }}{{ " +" if not loop.last }}
            {%- endfor %}
        , 31), 31) + 1, 1),
    false)
{%- endmacro %}

{#- Resident identity card number, GB 11643-1999: 17 digits and a check digit (0-9 or X) from
    Σ digit_i × w_i mod 11, with a real birth date (positions 7-14) between 1900-01-01 and today. -#}
{% macro is_valid_resident_id(id_number) -%}
    {%- set weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] -%}
    {%- set birth_text = dbt.concat(["substr(" ~ id_number ~ ", 7, 4)", "'-'", "substr(" ~ id_number ~ ", 11, 2)", "'-'", "substr(" ~ id_number ~ ", 13, 2)"]) -%}
    coalesce(
        {{ subsidy_warehouse.regex_match(id_number, '^[0-9]{17}[0-9X]$') }}
        and substr({{ id_number }}, 18, 1) = substr('10X98765432', mod(
            {%- for weight in weights %}
            cast(substr({{ id_number }}, {{ loop.index }}, 1) as integer) * {{ weight }}{{ " +" if not loop.last }}
            {%- endfor %}
        , 11) + 1, 1)
        and {{ subsidy_warehouse.safe_to_date(birth_text) }} between cast('1900-01-01' as date) and current_date,
    false)
{%- endmacro %}

{#- Passport number: 5 to 17 upper-case letters or digits. -#}
{% macro is_valid_passport(passport_no) -%}
    coalesce({{ subsidy_warehouse.regex_match(passport_no, '^[A-Z0-9]{5,17}$') }}, false)
{%- endmacro %}
