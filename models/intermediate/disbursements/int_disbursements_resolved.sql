-- Staged disbursements with their application (if it exists) and paying bureau resolved.
-- Ephemeral: its only reader is fct_disbursements, which keeps the same rows and most of the columns, so a
-- table here only cost one more write of every disbursement (2–5 s at 1M); fct_disbursements tests the key,
-- and its daily-load filter reaches these rows through the CTE.
{{ config(materialized='ephemeral') }}
with disbursements as (
    select * from {{ ref('stg_raw__disbursements') }}
),

applications as (
    select * from {{ ref('int_applications_resolved') }}
),

bureaus as (
    {{ bureau_spellings() }}
),

measure_bureaus as (
    select * from {{ ref('policy_measure_bureaus') }}
)

select
    -- ids
    disbursements.disbursement_id,
    disbursements.application_id,
    disbursements.voucher_no,
    applications.beneficiary_id,
    applications.beneficiary_name,
    applications.clause_code,
    applications.measure_code,
    applications.award_year,
    applications.status as application_status,
    applications.application_id is not null as is_application_known,
    -- payment
    disbursements.kind,
    disbursements.paying_bureau,
    bureaus.bureau_code as paying_bureau_code,
    measure_bureaus.bureau_code is not null as is_paying_bureau_responsible,
    disbursements.amount,
    disbursements.signed_amount,
    disbursements.paid_on,
    applications.approved_on,
    applications.approved_amount,
    -- provenance
    disbursements.source_file,
    disbursements.source_line
from disbursements
left join applications
    on disbursements.application_id = applications.application_id
left join bureaus
    on disbursements.paying_bureau = bureaus.spelling
left join measure_bureaus
    on applications.measure_code = measure_bureaus.measure_code
    and bureaus.bureau_code = measure_bureaus.bureau_code
