-- Policy clauses with their caps (marts.dim_clauses), in 万元.
select
    clause_code,
    measure_code,
    measure_no,
    measure_title_zh,
    clause_title_zh,
    is_monetary,
    cast(per_award_cap / 10000 as double) as per_award_cap_wan,
    cast(annual_cap / 10000 as double) as annual_cap_wan,
    cast(lifetime_cap / 10000 as double) as lifetime_cap_wan,
    responsible_bureaus
from marts.dim_clauses
