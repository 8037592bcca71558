-- Disbursements (marts.fct_disbursements): payments positive, clawbacks negative, in 万元.
select
    disbursement_id,
    application_id,
    beneficiary_id,
    beneficiary_name,
    clause_code,
    measure_code,
    paying_bureau,
    cast(award_year as varchar) as award_year,
    paid_on,
    paid_month,
    cast(paid_year as varchar) as paid_year,
    case kind when 'payment' then '拨付' else '追回' end as kind_zh,
    cast(signed_amount / 10000 as double) as paid_wan
from marts.fct_disbursements
