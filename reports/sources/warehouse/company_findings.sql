-- A company page's findings (audit.exceptions): each beneficiary's 10 findings with the largest amount at issue;
-- the page says when there are more (beneficiaries.finding_count). Amounts in 万元.
select
    e.beneficiary_id,
    coalesce(r.name_zh, e.rule_code) as rule_name_zh,
    case e.severity when 'fatal' then '致命' else '警告' end as severity_zh,
    e.record_id,
    cast(e.amount_at_issue / 10000 as double) as amount_wan,
    e.detail,
    e.rule_code
from audit.exceptions as e
left join audit.audit_rules as r on e.rule_code = r.rule_code
where e.beneficiary_id is not null
qualify row_number() over (
    partition by e.beneficiary_id order by e.amount_at_issue desc nulls last, e.severity, e.record_id, e.exception_id
) <= 10
order by e.beneficiary_id, e.record_id, e.exception_id
