-- One row per beneficiary (marts.dim_beneficiaries) with its totals: the 企业 list and the head of each company
-- page. Name and type only: the masked ID display column is left out. Amounts in 万元.
with awards as (
    select
        beneficiary_id,
        count(*) as award_count,
        sum(approved_amount) as approved_amount,
        sum(within_cap_amount) as within_cap_amount,
        sum(disbursed_amount) as disbursed_amount,
        sum(open_balance_amount) as open_balance_amount
    from marts.fct_awards
    group by 1
),

payments as (
    select beneficiary_id, count(*) as payment_count
    from marts.fct_disbursements
    group by 1
),

findings as (
    select beneficiary_id, count(*) as finding_count
    from audit.exceptions
    group by 1
)

select
    b.beneficiary_id,
    b.beneficiary_name,
    b.beneficiary_type_zh,
    b.district,
    coalesce(a.award_count, 0) as award_count,
    cast(coalesce(a.approved_amount, 0) / 10000 as double) as approved_wan,
    cast(coalesce(a.within_cap_amount, 0) / 10000 as double) as within_cap_wan,
    cast(coalesce(a.disbursed_amount, 0) / 10000 as double) as disbursed_wan,
    cast(coalesce(a.open_balance_amount, 0) / 10000 as double) as open_balance_wan,
    coalesce(p.payment_count, 0) as payment_count,
    coalesce(f.finding_count, 0) as finding_count
from marts.dim_beneficiaries as b
left join awards as a on b.beneficiary_id = a.beneficiary_id
left join payments as p on b.beneficiary_id = p.beneficiary_id
left join findings as f on b.beneficiary_id = f.beneficiary_id
order by b.beneficiary_id
