-- Applications that could be read, one row per application id.
{{ config(materialized='view', post_hook="{{ note_rewritten_keys_of_view('base_raw__applications', 'application_id') }}") }}
with checked as (
    select * from {{ ref('base_raw__applications') }}
)

select
    -- ids
    application_id,
    beneficiary_ref_hash,
    beneficiary_id_masked,
    clause_code,
    project_id,
    -- attributes
    award_year,
    status,
    approving_bureau,
    tier,
    -- amounts
    requested_amount,
    approved_amount,
    base_amount,
    loan_principal,
    -- dates
    applied_on,
    approved_on,
    loan_start_on,
    loan_end_on,
    -- provenance
    source_file,
    source_line,
    source_last_line,
    id_copies
from checked
where row_disposition = 'staged'
