-- Nothing lost: for every raw file, rows read = staged + rejected + collapsed exact duplicates.
{{ config(meta={'audit_rule': 'raw_not_reconciled'}) }}
select *
from {{ ref('raw_reconciliation') }}
where unaccounted_rows <> 0
