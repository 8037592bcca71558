-- Every raw application row, cast and checked, with how it ends up (staged, rejected, collapsed).
with source as (
    select * from {{ source('raw', 'applications') }}
),

trimmed as (
    select
        _source_file as source_file,
        _row_number as source_row_number,
        {{ clean_text('application_id') }} as application_id,
        {{ clean_text('beneficiary_id') }} as raw_beneficiary_id,
        {{ clean_text('clause_code') }} as clause_code,
        {{ clean_text('award_year') }} as award_year_text,
        {{ clean_text('applied_on') }} as applied_on_text,
        {{ clean_text('status') }} as status,
        {{ clean_text('requested_amount') }} as requested_amount_text,
        {{ clean_text('approved_amount') }} as approved_amount_text,
        {{ clean_text('approved_on') }} as approved_on_text,
        {{ clean_text('approving_bureau') }} as approving_bureau,
        {{ clean_text('base_amount') }} as base_amount_text,
        {{ clean_text('tier') }} as tier_text,
        {{ clean_text('project_id') }} as project_id,
        {{ clean_text('loan_principal') }} as loan_principal_text,
        {{ clean_text('loan_start_on') }} as loan_start_on_text,
        {{ clean_text('loan_end_on') }} as loan_end_on_text
    from source
),

typed as (
    select
        *,
        {{ safe_to_integer('award_year_text') }} as award_year,
        {{ safe_to_date('applied_on_text') }} as applied_on,
        {{ safe_to_money('requested_amount_text') }} as requested_amount,
        {{ safe_to_money('approved_amount_text') }} as approved_amount,
        {{ safe_to_date('approved_on_text') }} as approved_on,
        {{ safe_to_money('base_amount_text') }} as base_amount,
        {{ safe_to_integer('tier_text') }} as tier,
        {{ safe_to_money('loan_principal_text') }} as loan_principal,
        {{ safe_to_date('loan_start_on_text') }} as loan_start_on,
        {{ safe_to_date('loan_end_on_text') }} as loan_end_on,
        {{ row_fingerprint([
            'application_id', 'raw_beneficiary_id', 'clause_code', 'award_year_text', 'applied_on_text',
            'status', 'requested_amount_text', 'approved_amount_text', 'approved_on_text',
            'approving_bureau', 'base_amount_text', 'tier_text', 'project_id', 'loan_principal_text',
            'loan_start_on_text', 'loan_end_on_text']) }} as row_fingerprint
    from trimmed
),

checked as (
    select
        *,
        {{ join_reasons([
            reason_if_missing('application_id', '申报编号'),
            reason_if_missing('raw_beneficiary_id', '主体编号'),
            reason_if_missing('clause_code', '政策条款'),
            reason_if_missing('award_year_text', '申报年度'),
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
)

select
    -- provenance
    source_file,
    source_row_number,
    row_fingerprint,
    -- ids
    application_id,
    case when raw_beneficiary_id is not null
        then {{ beneficiary_ref_hash('raw_beneficiary_id') }} end as beneficiary_ref_hash,
    {{ mask_identifier('raw_beneficiary_id') }} as beneficiary_id_masked,
    clause_code,
    project_id,
    -- attributes
    award_year_text,
    award_year,
    status,
    approving_bureau,
    tier_text,
    tier,
    -- amounts
    requested_amount_text,
    requested_amount,
    approved_amount_text,
    approved_amount,
    base_amount_text,
    base_amount,
    loan_principal_text,
    loan_principal,
    -- dates
    applied_on_text,
    applied_on,
    approved_on_text,
    approved_on,
    loan_start_on_text,
    loan_start_on,
    loan_end_on_text,
    loan_end_on,
    -- disposition
    value_rejection_reason,
    {{ id_copies('application_id') }} as id_copies,
    {{ row_disposition('application_id') }} as row_disposition,
    {{ disposition_reason('application_id', '申报编号') }} as rejection_reason
from checked
