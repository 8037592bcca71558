-- A company page's room left under the annual caps (marts.agg_cap_utilization, clauses with an annual cap), in
-- 万元; the page shows the year the site is built. Every year stays in the source: a source with no rows breaks
-- Evidence's build (evidence-dev/evidence#2466), as on a warehouse with no award yet this year.
select
    beneficiary_id,
    clause_code,
    cast(award_year as varchar) as award_year,
    cast(annual_cap / 10000 as double) as annual_cap_wan,
    cast(within_cap_amount / 10000 as double) as within_cap_wan,
    cast(annual_cap_room_left / 10000 as double) as annual_cap_room_left_wan
from marts.agg_cap_utilization
where annual_cap is not null
order by beneficiary_id, clause_code, award_year
