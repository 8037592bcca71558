-- Money out per application: payments, clawbacks and net, over every staged disbursement.
-- daily loads read these to find what to recompute:
-- depends_on: {{ ref('base_raw__disbursements') }}
{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_rows_to_recompute('application_id', applications_with_new_payments()) }}") }}
with disbursements as (
    select * from {{ ref('stg_raw__disbursements') }}
    {%- if is_incremental() %}
    where application_id in ({{ applications_with_new_payments() }})
    {%- endif %}
)

select
    application_id,
    count(*) as disbursement_count,
    {{ money_total("sum(case when kind = 'payment' then amount else 0 end)") }} as paid_amount,
    {{ money_total("sum(case when kind = 'clawback' then amount else 0 end)") }} as clawed_back_amount,
    {{ money_total('sum(signed_amount)') }} as net_disbursed_amount,
    min(paid_on) as first_paid_on,
    max(paid_on) as last_paid_on
from disbursements
group by application_id
