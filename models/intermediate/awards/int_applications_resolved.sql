-- Staged applications with their beneficiary, clause, measure and approving bureau resolved.
-- daily loads read these to find what to recompute:
-- depends_on: {{ ref('int_applications_to_resolve') }}
{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_rows_to_recompute('application_id', applications_to_resolve()) }}") }}
with applications as (
    select * from {{ ref('stg_raw__applications') }}
    {%- if is_incremental() %}
    where application_id in ({{ applications_to_resolve() }})
    {%- endif %}
),

beneficiaries as (
    select * from {{ ref('stg_raw__beneficiaries') }}
),

clauses as (
    select * from {{ ref('policy_clauses') }}
),

bureaus as (
    {{ bureau_spellings() }}
),

measure_bureaus as (
    select * from {{ ref('policy_measure_bureaus') }}
)

select
    -- ids
    applications.application_id,
    beneficiaries.beneficiary_id,
    applications.beneficiary_ref_hash,
    applications.beneficiary_id_masked,
    applications.clause_code,
    clauses.measure_code,
    applications.project_id,
    -- beneficiary
    beneficiaries.beneficiary_name,
    beneficiaries.beneficiary_type,
    beneficiaries.beneficiary_id is not null as is_beneficiary_known,
    clauses.clause_code is not null as is_clause_known,
    -- approval
    applications.status,
    applications.award_year,
    applications.approving_bureau,
    bureaus.bureau_code as approving_bureau_code,
    measure_bureaus.bureau_code is not null as is_approving_bureau_responsible,
    applications.tier,
    -- amounts
    applications.requested_amount,
    applications.approved_amount,
    applications.base_amount,
    applications.loan_principal,
    -- dates
    applications.applied_on,
    applications.approved_on,
    applications.loan_start_on,
    applications.loan_end_on,
    -- provenance
    applications.source_file,
    applications.source_line
from applications
left join beneficiaries
    on applications.beneficiary_ref_hash = beneficiaries.beneficiary_ref_hash
left join clauses
    on applications.clause_code = clauses.clause_code
left join bureaus
    on applications.approving_bureau = bureaus.spelling
left join measure_bureaus
    on clauses.measure_code = measure_bureaus.measure_code
    and bureaus.bureau_code = measure_bureaus.bureau_code
