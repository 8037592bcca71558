-- Findings of the audit rules (audit.exceptions), with the rule's Chinese name and description (seed audit_rules).
select
    e.exception_id,
    e.rule_code,
    coalesce(r.name_zh, e.rule_code) as rule_name_zh,
    case e.severity when 'fatal' then '致命' else '警告' end as severity_zh,
    e.category,
    e.record_type,
    e.record_id,
    e.beneficiary_id,
    e.clause_code,
    e.measure_code,
    coalesce(e.bureau, '（未知）') as bureau,
    cast(e.award_year as varchar) as award_year,
    cast(e.amount_at_issue / 10000 as double) as amount_wan,
    e.detail,
    e.rule_description_zh
from audit.exceptions as e
left join audit.audit_rules as r on e.rule_code = r.rule_code
