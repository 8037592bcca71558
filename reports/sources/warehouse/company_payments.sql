-- A company page's payments: each beneficiary's 50 most recent disbursements (marts.fct_disbursements; payments
-- positive, clawbacks negative, in 万元); the page says when there are more (beneficiaries.payment_count).
select
    beneficiary_id,
    paid_on,
    case kind when 'payment' then '拨付' else '追回' end as kind_zh,
    paying_bureau,
    clause_code,
    cast(signed_amount / 10000 as double) as paid_wan
from marts.fct_disbursements
where beneficiary_id is not null
qualify row_number() over (partition by beneficiary_id order by paid_on desc, disbursement_id desc) <= 50
order by beneficiary_id, paid_on, disbursement_id
