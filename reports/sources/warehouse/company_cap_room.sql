-- A company page's room left under the annual caps this year (marts.agg_cap_utilization, clauses with an annual
-- cap, award year = the year the site is built), in 万元.
select
    beneficiary_id,
    clause_code,
    cast(award_year as varchar) as award_year,
    cast(annual_cap / 10000 as double) as annual_cap_wan,
    cast(within_cap_amount / 10000 as double) as within_cap_wan,
    cast(annual_cap_room_left / 10000 as double) as annual_cap_room_left_wan
from marts.agg_cap_utilization
where annual_cap is not null
  and award_year = year(current_date)
order by beneficiary_id, clause_code
