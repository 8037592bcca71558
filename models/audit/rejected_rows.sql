-- Every raw record that could not be read, with its reason, its lines and raw values. Personal
-- identifiers in the raw values are masked or pseudonymised. None of these records reaches the marts.
-- A daily load replaces the rows of the records it read again (rejected_rows_to_recompute) and adds the new
-- unreadable ones: a record read in an earlier load keeps its lines, so its row keeps its id.
{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_rows_to_recompute('rejected_row_id', rejected_rows_to_recompute()) }}") }}
with beneficiaries as (
    select * from {{ ref('base_raw__beneficiaries') }}
    where row_disposition = 'rejected'
    {%- if is_incremental() %}
        and {{ recomputed_in_this_build() }}
    {%- endif %}
),

applications as (
    select * from {{ ref('base_raw__applications') }}
    where row_disposition = 'rejected'
    {%- if is_incremental() %}
        and {{ recomputed_in_this_build() }}
    {%- endif %}
),

disbursements as (
    select * from {{ ref('base_raw__disbursements') }}
    where row_disposition = 'rejected'
    {%- if is_incremental() %}
        and {{ recomputed_in_this_build() }}
    {%- endif %}
),

unreadable as (
    select * from {{ source('raw', 'unreadable_rows') }}
    {%- if is_incremental() %}
    where {{ recomputed_in_this_build() }}
    {%- endif %}
),

unioned as (
    select
        source_file,
        source_line,
        source_last_line,
        'beneficiary' as record_type,
        beneficiary_id_display as record_id,
        rejection_reason,
        {{ json_object_of([
            ('beneficiary_id', 'beneficiary_id_display'), ('beneficiary_name', 'beneficiary_name'),
            ('beneficiary_type', 'beneficiary_type'), ('id_type', 'id_type'),
            ('registered_on', 'registered_on_text'), ('district', 'district')]) }} as raw_values
    from beneficiaries

    union all

    select
        source_file,
        source_line,
        source_last_line,
        'application' as record_type,
        application_id as record_id,
        rejection_reason,
        {{ json_object_of([
            ('application_id', 'application_id'), ('beneficiary_id', 'beneficiary_id_masked'),
            ('clause_code', 'clause_code'), ('award_year', 'award_year_text'), ('applied_on', 'applied_on_text'),
            ('status', 'status'), ('requested_amount', 'requested_amount_text'),
            ('approved_amount', 'approved_amount_text'), ('approved_on', 'approved_on_text'),
            ('approving_bureau', 'approving_bureau'), ('base_amount', 'base_amount_text'), ('tier', 'tier_text'),
            ('project_id', 'project_id'), ('loan_principal', 'loan_principal_text'),
            ('loan_start_on', 'loan_start_on_text'), ('loan_end_on', 'loan_end_on_text')]) }} as raw_values
    from applications

    union all

    select
        source_file,
        source_line,
        source_last_line,
        'disbursement' as record_type,
        disbursement_id as record_id,
        rejection_reason,
        {{ json_object_of([
            ('disbursement_id', 'disbursement_id'), ('application_id', 'application_id'),
            ('paid_on', 'paid_on_text'), ('amount', 'amount_text'), ('kind', 'kind'),
            ('paying_bureau', 'paying_bureau'), ('voucher_no', 'voucher_no')]) }} as raw_values
    from disbursements

    union all

    -- a record that could not be split into columns may hold a personal identifier anywhere: its text
    -- is not kept, only its length
    select
        source_file,
        first_line as source_line,
        last_line as source_last_line,
        'unreadable' as record_type,
        cast(null as {{ text_type() }}) as record_id,
        reason as rejection_reason,
        {{ json_object_of([('raw_line_length', dbt.length('raw_line'))]) }} as raw_values
    from unreadable
)

select
    {{ rejected_row_id('source_file', 'source_line') }} as rejected_row_id,
    *
from unioned
