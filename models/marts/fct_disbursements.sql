-- One row per staged disbursement; clawbacks carry a negative signed_amount.
with disbursements as (
    select * from {{ ref('int_disbursements_resolved') }}
)

select
    -- ids
    disbursement_id,
    application_id,
    voucher_no,
    beneficiary_id,
    beneficiary_name,
    clause_code,
    measure_code,
    award_year,
    application_status,
    approved_on as application_approved_on,
    is_application_known,
    -- payment
    kind,
    paying_bureau,
    paying_bureau_code,
    is_paying_bureau_responsible,
    amount,
    signed_amount,
    -- dates
    paid_on,
    cast({{ dbt.date_trunc('month', 'paid_on') }} as date) as paid_month,
    cast(extract(year from paid_on) as integer) as paid_year
from disbursements
