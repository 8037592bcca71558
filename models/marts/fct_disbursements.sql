-- One row per staged disbursement; clawbacks carry a negative signed_amount.
-- daily loads read these to find what to recompute:
-- depends_on: {{ ref('int_disbursements_to_resolve') }}
-- (and, before this model replaces its rows, the payees they had)
-- depends_on: {{ ref('int_payees_to_recompute') }}
{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_rows_to_recompute('disbursement_id', disbursements_to_resolve()) }}") }}
with disbursements as (
    select * from {{ ref('int_disbursements_resolved') }}
    {%- if is_incremental() %}
    where disbursement_id in ({{ disbursements_to_resolve() }})
    {%- endif %}
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
