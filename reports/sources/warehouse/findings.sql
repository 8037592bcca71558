-- Findings of the audit rules (audit.exceptions), with the rule's description.
select
    e.exception_id,
    e.rule_code,
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
