-- Approved awards (marts.fct_awards) summed per award year, approving bureau and clause: the grain of every
-- total, year, bureau and measure view (总览, 年度, 部门, 政策条款). Amounts in 万元, summed exactly before the cast.
select
    cast(a.award_year as varchar) as award_year,
    a.approving_bureau,
    a.clause_code,
    any_value(c.clause_title_zh) as clause_title_zh,
    any_value(a.measure_code) as measure_code,
    any_value(c.measure_title_zh) as measure_title_zh,
    count(*) as award_count,
    cast(sum(a.approved_amount) / 10000 as double) as approved_wan,
    cast(sum(a.within_cap_amount) / 10000 as double) as within_cap_wan,
    cast(sum(a.over_cap_amount) / 10000 as double) as over_cap_wan,
    cast(sum(a.disbursed_amount) / 10000 as double) as disbursed_wan,
    cast(sum(a.open_balance_amount) / 10000 as double) as open_balance_wan
from marts.fct_awards as a
left join marts.dim_clauses as c on a.clause_code = c.clause_code
group by a.award_year, a.approving_bureau, a.clause_code
order by 1, 2, 3
