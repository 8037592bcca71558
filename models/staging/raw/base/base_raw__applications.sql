-- Every raw application record, cast and checked, with how it ends up (staged, rejected, collapsed).
-- The beneficiary is known from here on only by its pseudonymous key and a masked rendering; a resident
-- ID number written in any other column is replaced by its holder's pseudonym.
{{ config(materialized='incremental', unique_key='application_id', incremental_strategy=keyed_incremental_strategy(), post_hook='{{ note_rewritten_batch() }}') }}
with source as (
    select * from {{ source('raw', 'applications') }}
    {{ records_to_recompute('applications', 'application_id', staged_identifier('application_id')) }}
),

cleaned as (
    select
        _source_file as source_file,
        _first_line as source_line,
        _last_line as source_last_line,
        {{ folded_beneficiary_id('beneficiary_id') }} as folded_beneficiary_id,
        {{ staged_text_columns([
            ('application_id', 'application_id', 'identifier'),
            ('clause_code', 'clause_code', 'text'),
            ('award_year_text', 'award_year', 'text'),
            ('applied_on_text', 'applied_on', 'text'),
            ('status', 'status', 'text'),
            ('requested_amount_text', 'requested_amount', 'text'),
            ('approved_amount_text', 'approved_amount', 'text'),
            ('approved_on_text', 'approved_on', 'text'),
            ('approving_bureau', 'approving_bureau', 'text'),
            ('base_amount_text', 'base_amount', 'text'),
            ('tier_text', 'tier', 'text'),
            ('project_id', 'project_id', 'identifier'),
            ('loan_principal_text', 'loan_principal', 'text'),
            ('loan_start_on_text', 'loan_start_on', 'text'),
            ('loan_end_on_text', 'loan_end_on', 'text'),
        ]) }}
    from source
),

typed as (
    select
        *,
        {{ normalised_beneficiary_id('folded_beneficiary_id') }} as normalised_beneficiary_id,
        {{ safe_to_integer('award_year_text') }} as award_year,
        {{ safe_to_date('applied_on_text') }} as applied_on,
        {{ safe_to_money('requested_amount_text') }} as requested_amount,
        {{ safe_to_money('approved_amount_text') }} as approved_amount,
        {{ safe_to_date('approved_on_text') }} as approved_on,
        {{ safe_to_money('base_amount_text') }} as base_amount,
        {{ safe_to_integer('tier_text') }} as tier,
        {{ safe_to_money('loan_principal_text') }} as loan_principal,
        {{ safe_to_date('loan_start_on_text') }} as loan_start_on,
        {{ safe_to_date('loan_end_on_text') }} as loan_end_on
    from cleaned
),

checked as {{ cte_hint('materialized') }} (
    select
        *,
        {{ beneficiary_ref_hash('normalised_beneficiary_id') }} as beneficiary_ref_hash,
        {{ mask_identifier('normalised_beneficiary_id') }} as beneficiary_id_masked,
        {{ join_reasons([
            reason_if_missing('application_id', '申报编号'),
            reason_if_missing('normalised_beneficiary_id', '主体编号', 'beneficiary_id'),
            reason_if_missing('clause_code', '政策条款'),
            reason_if_missing('award_year_text', '申报年度', 'award_year'),
            reason_if_missing('status', '状态'),
            reason_if_not_in('status', ['submitted', 'approved', 'rejected', 'withdrawn'], '状态'),
            reason_if_unreadable('award_year_text', 'award_year', '申报年度', '有效年份'),
            reason_if_unreadable('applied_on_text', 'applied_on', '申报日期', '有效日期（YYYY-MM-DD）'),
            reason_if_unreadable('approved_on_text', 'approved_on', '批准日期', '有效日期（YYYY-MM-DD）'),
            reason_if_unreadable('loan_start_on_text', 'loan_start_on', '贷款起始日', '有效日期（YYYY-MM-DD）'),
            reason_if_unreadable('loan_end_on_text', 'loan_end_on', '贷款到期日', '有效日期（YYYY-MM-DD）'),
            reason_if_bad_amount('requested_amount_text', 'requested_amount', '申请金额'),
            reason_if_bad_amount('approved_amount_text', 'approved_amount', '核定金额'),
            reason_if_bad_amount('base_amount_text', 'base_amount', '基数金额'),
            reason_if_bad_amount('loan_principal_text', 'loan_principal', '贷款本金'),
            reason_if_unreadable('tier_text', 'tier', '档次', '整数'),
            "case when status = 'approved' and approved_amount_text is null then '已批准的申报缺少核定金额（approved_amount）' end",
            "case when status = 'approved' and approved_on_text is null then '已批准的申报缺少批准日期（approved_on）' end",
        ]) }} as value_rejection_reason
    from typed
),

repeated as (
    {{ repeated_identifiers('checked', 'application_id', [
        'beneficiary_ref_hash', 'clause_code', 'award_year_text', 'applied_on_text', 'status',
        'requested_amount_text', 'approved_amount_text', 'approved_on_text', 'approving_bureau',
        'base_amount_text', 'tier_text', 'project_id', 'loan_principal_text', 'loan_start_on_text',
        'loan_end_on_text']) }}
)

select
    -- provenance
    {{ current_batch() }} as _batch,
    checked.source_file,
    checked.source_line,
    checked.source_last_line,
    -- ids
    checked.application_id,
    checked.beneficiary_ref_hash,
    checked.beneficiary_id_masked,
    checked.clause_code,
    checked.project_id,
    -- attributes
    {{ text_unless_staged('checked.award_year_text') }} as award_year_text,
    checked.award_year,
    checked.status,
    checked.approving_bureau,
    {{ text_unless_staged('checked.tier_text') }} as tier_text,
    checked.tier,
    -- amounts
    {{ text_unless_staged('checked.requested_amount_text') }} as requested_amount_text,
    checked.requested_amount,
    {{ text_unless_staged('checked.approved_amount_text') }} as approved_amount_text,
    checked.approved_amount,
    {{ text_unless_staged('checked.base_amount_text') }} as base_amount_text,
    checked.base_amount,
    {{ text_unless_staged('checked.loan_principal_text') }} as loan_principal_text,
    checked.loan_principal,
    -- dates
    {{ text_unless_staged('checked.applied_on_text') }} as applied_on_text,
    checked.applied_on,
    {{ text_unless_staged('checked.approved_on_text') }} as approved_on_text,
    checked.approved_on,
    {{ text_unless_staged('checked.loan_start_on_text') }} as loan_start_on_text,
    checked.loan_start_on,
    {{ text_unless_staged('checked.loan_end_on_text') }} as loan_end_on_text,
    checked.loan_end_on,
    -- disposition
    checked.value_rejection_reason,
    {{ disposition_columns('checked.application_id', '申报编号') }}
from checked
left join repeated on checked.application_id = repeated.application_id
