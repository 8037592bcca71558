-- Nothing lost: for every raw file, rows read = staged + rejected + collapsed exact duplicates.
select *
from {{ ref('raw_reconciliation') }}
where unaccounted_rows <> 0
