-- One row per finding, from the rule files in models/audit/rules (one SQL per rule), with the rule's
-- severity and category from seed audit_rules.
{%- set rules = audit_rule_models() %}
with findings as (
    {%- for rule in rules %}
    select * from {{ ref(rule) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

rules as (
    select * from {{ ref('audit_rules') }}
),

clauses as (
    select clause_code, measure_code from {{ ref('policy_clauses') }}
)

select
    {{ dbt.concat(['findings.rule_code', "':'", 'findings.record_type', "':'", 'findings.record_id']) }} as exception_id,
    findings.rule_code,
    rules.severity,
    rules.category,
    findings.record_type,
    findings.record_id,
    findings.beneficiary_id,
    findings.clause_code,
    clauses.measure_code,
    findings.bureau,
    findings.award_year,
    {{ money_total('coalesce(findings.amount_at_issue, 0)') }} as amount_at_issue,
    findings.detail,
    rules.description_zh as rule_description_zh
from findings
inner join rules on findings.rule_code = rules.rule_code
left join clauses on findings.clause_code = clauses.clause_code
