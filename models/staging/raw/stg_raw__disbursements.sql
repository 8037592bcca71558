-- Disbursements that could be read, one row per disbursement id.
{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_rows_to_recompute('disbursement_id', recomputed_keys('base_raw__disbursements', 'disbursement_id')) }}") }}
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
{%- if is_incremental() %}
    and {{ recomputed_in_this_build() }}
{%- endif %}
