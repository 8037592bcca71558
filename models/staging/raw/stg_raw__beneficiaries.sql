-- Beneficiaries that could be read, one row per identifier.
{{ config(materialized='view', post_hook="{{ note_rewritten_keys_of_view('base_raw__beneficiaries', 'beneficiary_ref_hash') }}") }}
with checked as (
    select * from {{ ref('base_raw__beneficiaries') }}
)

select
    -- ids
    beneficiary_id,
    beneficiary_ref_hash,
    beneficiary_id_display,
    is_personal_id,
    is_id_valid,
    -- attributes
    beneficiary_name,
    beneficiary_type,
    id_type,
    registered_on,
    district,
    -- provenance
    source_file,
    source_line,
    source_last_line,
    id_copies
from checked
where row_disposition = 'staged'
