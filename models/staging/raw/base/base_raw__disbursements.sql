-- Every raw disbursement row, cast and checked, with how it ends up (staged, rejected, collapsed).
with source as (
    select * from {{ source('raw', 'disbursements') }}
),

trimmed as (
    select
        _source_file as source_file,
        _row_number as source_row_number,
        {{ clean_text('disbursement_id') }} as disbursement_id,
        {{ clean_text('application_id') }} as application_id,
        {{ clean_text('paid_on') }} as paid_on_text,
        {{ clean_text('amount') }} as amount_text,
        {{ clean_text('kind') }} as kind,
        {{ clean_text('paying_bureau') }} as paying_bureau,
        {{ clean_text('voucher_no') }} as voucher_no
    from source
),

typed as (
    select
        *,
        {{ safe_to_date('paid_on_text') }} as paid_on,
        {{ safe_to_money('amount_text') }} as amount,
        {{ row_fingerprint(['disbursement_id', 'application_id', 'paid_on_text', 'amount_text', 'kind',
                            'paying_bureau', 'voucher_no']) }} as row_fingerprint
    from trimmed
),

checked as (
    select
        *,
        {{ join_reasons([
            reason_if_missing('disbursement_id', '拨付编号'),
            reason_if_missing('application_id', '申报编号'),
            reason_if_missing('paid_on_text', '拨付日期'),
            reason_if_missing('amount_text', '拨付金额'),
            reason_if_missing('kind', '拨付类型'),
            reason_if_not_in('kind', ['payment', 'clawback'], '拨付类型'),
            reason_if_unreadable('paid_on_text', 'paid_on', '拨付日期', '有效日期（YYYY-MM-DD）'),
            reason_if_bad_amount('amount_text', 'amount', '拨付金额'),
            "case when amount = 0 then '拨付金额（amount）必须大于零' end",
        ]) }} as value_rejection_reason
    from typed
)

select
    -- provenance
    source_file,
    source_row_number,
    row_fingerprint,
    -- ids
    disbursement_id,
    application_id,
    voucher_no,
    -- attributes
    kind,
    paying_bureau,
    -- amounts
    amount_text,
    amount,
    -- dates
    paid_on_text,
    paid_on,
    -- disposition
    value_rejection_reason,
    {{ id_copies('disbursement_id') }} as id_copies,
    {{ row_disposition('disbursement_id') }} as row_disposition,
    {{ disposition_reason('disbursement_id', '拨付编号') }} as rejection_reason
from checked
