-- How much of their annual cap beneficiaries used (marts.agg_cap_utilization, clauses with an annual cap):
-- beneficiary × clause × year combinations counted per award year, clause and band of the share used.
select
    cast(award_year as varchar) as award_year,
    clause_code,
    case
        when annual_cap_share_used < 0.25 then 1
        when annual_cap_share_used < 0.5 then 2
        when annual_cap_share_used < 0.75 then 3
        when annual_cap_share_used < 1 then 4
        else 5
    end as band_no,
    case
        when annual_cap_share_used < 0.25 then '不足25%'
        when annual_cap_share_used < 0.5 then '25%–50%'
        when annual_cap_share_used < 0.75 then '50%–75%'
        when annual_cap_share_used < 1 then '75%–100%'
        else '已用满'
    end as band_zh,
    count(*) as beneficiary_clause_years
from marts.agg_cap_utilization
where annual_cap is not null
group by all
order by 1, 2, 3
