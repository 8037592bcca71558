-- Disbursements (marts.fct_disbursements) summed per award year, paying bureau and month: payments positive,
-- clawbacks negative, in 万元.
select
    cast(award_year as varchar) as award_year,
    paying_bureau,
    paid_month,
    count(*) as payment_count,
    cast(sum(signed_amount) / 10000 as double) as paid_wan
from marts.fct_disbursements
group by all
order by 1, 2, 3
