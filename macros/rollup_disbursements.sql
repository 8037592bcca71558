{#- Disbursement rollup over fct_disbursements by the given (name → expression) keys and paid year.
    Every staged disbursement falls in exactly one group: unknown keys get a placeholder, never null,
    so each rollup adds up to the same total as the fact table. `where`, if given, keeps only some groups (a
    daily load's). -#}
{% macro rollup_disbursements(keys, where=none) -%}
with disbursements as (
    select * from {{ ref('fct_disbursements') }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
)

select
    {%- for name, expression in keys %}
    {{ expression }} as {{ name }},
    {%- endfor %}
    paid_year,
    count(*) as disbursement_count,
    {{ money_total("sum(case when kind = 'payment' then amount else 0 end)") }} as paid_amount,
    {{ money_total("sum(case when kind = 'clawback' then amount else 0 end)") }} as clawed_back_amount,
    {{ money_total('sum(signed_amount)') }} as net_paid_amount
from disbursements
group by
    {%- for name, expression in keys %}
    {{ expression }},
    {%- endfor %}
    paid_year
{%- endmacro %}

{#- The payee a rollup by beneficiary groups a disbursement under: 'UNKNOWN' for one whose application is not on
    record (agg_disbursements_by_company_year, and the payees a daily load recomputes in it). -#}
{% macro rollup_payee(beneficiary_id) -%}
    coalesce({{ beneficiary_id }}, 'UNKNOWN')
{%- endmacro %}
