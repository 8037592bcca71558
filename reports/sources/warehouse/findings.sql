-- The 异常 page's list: for each rule and bureau, the 200 findings (audit.exceptions) with the largest amount at
-- issue; the page gives the total count (finding_totals) and points to the audit's full list. Amounts in 万元.
select
    e.rule_code,
    coalesce(r.name_zh, e.rule_code) as rule_name_zh,
    case e.severity when 'fatal' then '致命' else '警告' end as severity_zh,
    e.record_id,
    coalesce(e.bureau, '（未知）') as bureau,
    cast(e.award_year as varchar) as award_year,
    cast(e.amount_at_issue / 10000 as double) as amount_wan,
    e.detail
from audit.exceptions as e
left join audit.audit_rules as r on e.rule_code = r.rule_code
qualify row_number() over (
    partition by e.rule_code, coalesce(e.bureau, '（未知）')
    order by e.amount_at_issue desc nulls last, e.record_id, e.exception_id
) <= 200
order by e.rule_code, bureau, e.amount_at_issue desc nulls last, e.record_id
