-- Use of each beneficiary's annual cap per clause and year (marts.agg_cap_utilization).
select
    beneficiary_id,
    beneficiary_name,
    clause_code,
    measure_code,
    cast(award_year as varchar) as award_year,
    award_count,
    cast(approved_amount / 10000 as double) as approved_wan,
    cast(within_cap_amount / 10000 as double) as within_cap_wan,
    cast(annual_cap / 10000 as double) as annual_cap_wan,
    cast(annual_cap_share_used as double) as annual_cap_share_used,
    cast(annual_cap_room_left / 10000 as double) as annual_cap_room_left_wan
from marts.agg_cap_utilization
