-- Disbursements that could be read, one row per disbursement id.
{{ config(materialized='view', post_hook="{{ note_rewritten_keys_of_view('base_raw__disbursements', 'disbursement_id') }}") }}
with checked as (
    select * from {{ ref('base_raw__disbursements') }}
)

select
    -- ids
    disbursement_id,
    application_id,
    voucher_no,
    -- attributes
    kind,
    paying_bureau,
    -- amounts
    amount,
    case when kind = 'clawback' then -amount else amount end as signed_amount,
    -- dates
    paid_on,
    -- provenance
    source_file,
    source_line,
    source_last_line,
    id_copies
from checked
where row_disposition = 'staged'
