-- The findings stored in audit.exceptions are exactly what the rules find when rerun now: a finding
-- removed, added or changed after the build (or a build from older rules) shows up here.
{{ config(tags=['audit_rule'], meta={'audit_rule': 'findings_out_of_date'}) }}
with rerun as (
    {%- for rule in audit_rule_models() %}
    select rule_code, record_type, record_id, {{ money_total("coalesce(amount_at_issue, 0)") }} as amount_at_issue
    from {{ ref(rule) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

stored as (
    select rule_code, record_type, record_id, amount_at_issue
    from {{ ref('exceptions') }}
)

select
    coalesce(rerun.rule_code, stored.rule_code) as rule_code,
    coalesce(rerun.record_type, stored.record_type) as record_type,
    coalesce(rerun.record_id, stored.record_id) as record_id,
    rerun.amount_at_issue as rerun_amount,
    stored.amount_at_issue as stored_amount,
    case
        when stored.rule_code is null then 'missing_from_exceptions'
        when rerun.rule_code is null then 'not_found_by_rerun'
        else 'amount_differs'
    end as difference
from rerun
full outer join stored
    on rerun.rule_code = stored.rule_code
    and rerun.record_type = stored.record_type
    and rerun.record_id = stored.record_id
where stored.rule_code is null
    or rerun.rule_code is null
    or rerun.amount_at_issue <> stored.amount_at_issue
