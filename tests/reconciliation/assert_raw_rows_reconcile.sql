-- Nothing lost: for every raw file, records read = staged + rejected + collapsed exact duplicates, and
-- every physical line is the header, a blank line, or a line of exactly one of those records.
{{ config(meta={'audit_rule': 'raw_not_reconciled'}) }}
select *
from {{ ref('raw_reconciliation') }}
where unaccounted_rows <> 0 or unaccounted_lines <> 0
