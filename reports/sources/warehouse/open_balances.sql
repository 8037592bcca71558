-- The 20 awards with the largest open balance (approved, not yet paid) per approving bureau (部门 page), in 万元.
select
    approving_bureau,
    application_id,
    beneficiary_name,
    clause_code,
    cast(award_year as varchar) as award_year,
    approved_on,
    cast(open_balance_amount / 10000 as double) as open_balance_wan
from marts.fct_awards
where open_balance_amount > 0
qualify row_number() over (partition by approving_bureau order by open_balance_amount desc, application_id) <= 20
order by approving_bureau, open_balance_amount desc, application_id
