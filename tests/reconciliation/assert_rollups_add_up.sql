-- Every yuan of fct_disbursements appears once in each rollup, per paid year.
{{ config(meta={'audit_rule': 'rollup_mismatch'}) }}
{%- set rollups = ['agg_disbursements_by_company_year', 'agg_disbursements_by_bureau_year', 'agg_disbursements_by_clause_year'] %}
with facts as (
    select paid_year, count(*) as disbursement_count, sum(signed_amount) as net_paid_amount
    from {{ ref('fct_disbursements') }}
    group by paid_year
),

rollups as (
    {%- for rollup in rollups %}
    select '{{ rollup }}' as rollup_name, paid_year,
        sum(disbursement_count) as disbursement_count, sum(net_paid_amount) as net_paid_amount
    from {{ ref(rollup) }}
    group by paid_year
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

expected as (
    select rollup_names.rollup_name, facts.*
    from facts
    cross join (
        {%- for rollup in rollups %}
        select '{{ rollup }}' as rollup_name {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ) as rollup_names
)

select expected.rollup_name, expected.paid_year, expected.net_paid_amount, rollups.net_paid_amount as rollup_amount
from expected
full outer join rollups
    on expected.rollup_name = rollups.rollup_name and expected.paid_year = rollups.paid_year
where expected.net_paid_amount is distinct from rollups.net_paid_amount
    or expected.disbursement_count is distinct from rollups.disbursement_count
