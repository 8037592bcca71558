-- One row per approved application whose beneficiary and clause are known: what was approved, what
-- the policy allows, what fell within the caps, and what has been paid.
-- daily loads read these to find what to recompute:
-- depends_on: {{ ref('int_awards_to_recompute') }}
-- depends_on: {{ ref('base_raw__disbursements') }}
{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_rows_to_recompute('application_id', awards_to_recompute() ~ ' union ' ~ applications_with_new_payments()) }}") }}
with awards as (
    select * from {{ ref('int_awards_capped') }}
    {%- if is_incremental() %}
    where application_id in ({{ awards_to_recompute() }} union {{ applications_with_new_payments() }})
    {%- endif %}
),

-- what the cap arithmetic does not carry along
applications as (
    select * from {{ ref('int_applications_resolved') }}
),

payments as (
    select * from {{ ref('int_application_payments') }}
)

select
    -- ids
    awards.application_id,
    awards.beneficiary_id,
    applications.beneficiary_name,
    awards.beneficiary_type,
    awards.clause_code,
    applications.measure_code,
    awards.project_id,
    awards.approving_bureau,
    applications.approving_bureau_code,
    -- period
    awards.award_year,
    applications.applied_on,
    awards.approved_on,
    -- amounts
    applications.requested_amount,
    awards.approved_amount,
    applications.base_amount,
    awards.eligible_amount,
    awards.within_cap_amount,
    awards.over_cap_amount,
    -- limits
    awards.per_award_limit,
    awards.ratio_limit,
    awards.tier_limit,
    awards.interest_limit,
    awards.static_limit,
    awards.project_cap_room,
    awards.annual_cap_room,
    awards.lifetime_cap_room,
    awards.binding_limit,
    awards.ineligible_reason,
    applications.tier,
    applications.loan_principal,
    applications.loan_start_on,
    applications.loan_end_on,
    awards.lpr_effective_on,
    awards.lpr_pct,
    -- money out
    coalesce(payments.disbursement_count, 0) as disbursement_count,
    {{ money_total('coalesce(payments.net_disbursed_amount, 0)') }} as disbursed_amount,
    {{ money_total('awards.approved_amount - coalesce(payments.net_disbursed_amount, 0)') }} as open_balance_amount,
    payments.last_paid_on
from awards
inner join applications
    on awards.application_id = applications.application_id
left join payments
    on awards.application_id = payments.application_id
