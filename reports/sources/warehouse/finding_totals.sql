-- Findings of the audit rules (audit.exceptions) counted and summed per rule and bureau, with the rule's Chinese
-- name (seed audit_rules): the 异常 page's totals and charts. Amounts in 万元.
select
    e.rule_code,
    coalesce(any_value(r.name_zh), e.rule_code) as rule_name_zh,
    case e.severity when 'fatal' then '致命' else '警告' end as severity_zh,
    coalesce(e.bureau, '（未知）') as bureau,
    count(*) as finding_count,
    cast(coalesce(sum(e.amount_at_issue), 0) / 10000 as double) as amount_wan
from audit.exceptions as e
left join audit.audit_rules as r on e.rule_code = r.rule_code
group by e.rule_code, e.severity, coalesce(e.bureau, '（未知）')
order by 1, 3, 4
