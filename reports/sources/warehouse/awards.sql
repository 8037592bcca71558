-- Approved awards (marts.fct_awards); amounts in 万元. No personal identifier: a person is a pseudonym.
select
    a.application_id,
    a.beneficiary_id,
    a.beneficiary_name,
    b.beneficiary_type_zh,
    a.clause_code,
    c.clause_title_zh,
    a.measure_code,
    c.measure_title_zh,
    a.approving_bureau,
    cast(a.award_year as varchar) as award_year,
    a.approved_on,
    cast(a.approved_amount / 10000 as double) as approved_wan,
    cast(a.within_cap_amount / 10000 as double) as within_cap_wan,
    cast(a.over_cap_amount / 10000 as double) as over_cap_wan,
    cast(a.disbursed_amount / 10000 as double) as disbursed_wan,
    cast(a.open_balance_amount / 10000 as double) as open_balance_wan,
    a.binding_limit
from marts.fct_awards as a
left join marts.dim_beneficiaries as b on a.beneficiary_id = b.beneficiary_id
left join marts.dim_clauses as c on a.clause_code = c.clause_code
