-- A company page's list of awards: each beneficiary's 50 most recently approved awards (marts.fct_awards), in
-- 万元; the page says when a beneficiary has more (beneficiaries.award_count). Sorted by beneficiary, so that a
-- page's query reads only the part of the file that holds its beneficiary.
select
    a.beneficiary_id,
    cast(a.award_year as varchar) as award_year,
    a.clause_code || ' ' || coalesce(c.clause_title_zh, '') as clause_zh,
    a.application_id,
    a.approving_bureau,
    cast(a.approved_amount / 10000 as double) as approved_wan,
    cast(a.within_cap_amount / 10000 as double) as within_cap_wan,
    cast(a.over_cap_amount / 10000 as double) as over_cap_wan,
    cast(a.disbursed_amount / 10000 as double) as disbursed_wan
from marts.fct_awards as a
left join marts.dim_clauses as c on a.clause_code = c.clause_code
where a.beneficiary_id is not null
qualify row_number() over (partition by a.beneficiary_id order by a.approved_on desc, a.application_id desc) <= 50
order by a.beneficiary_id, a.award_year, clause_zh, a.application_id
