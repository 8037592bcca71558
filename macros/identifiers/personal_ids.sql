{#- Personal identifiers (resident ID, passport) never leave the raw layer in clear. -#}

{#- A stable, salted pseudonym for any beneficiary identifier as written in the raw files. Used to join
    applications to beneficiaries without carrying the identifier itself. -#}
{% macro beneficiary_ref_hash(raw_id) -%}
    substr({{ subsidy_warehouse.sha256_hex(dbt.concat(["'" ~ var('id_hash_salt') ~ "|'", raw_id])) }}, 1, 32)
{%- endmacro %}

{#- The identifier people see: a company's USCC as it is (public register data), a person's replaced by
    'P' and the first 15 characters of its pseudonym. -#}
{% macro beneficiary_public_id(raw_id, id_type) -%}
    case
        when {{ id_type }} = 'uscc' then {{ raw_id }}
        else {{ dbt.concat(["'P'", "substr(" ~ subsidy_warehouse.beneficiary_ref_hash(raw_id) ~ ", 1, 15)"]) }}
    end
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
