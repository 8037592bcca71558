-- Every raw disbursement record, cast and checked, with how it ends up (staged, rejected, collapsed).
-- A resident ID number written in any column is replaced by its holder's pseudonym.
{{ config(materialized='incremental', unique_key='disbursement_id', incremental_strategy=keyed_incremental_strategy(), post_hook='{{ note_rewritten_batch() }}') }}
with source as (
    select * from {{ source('raw', 'disbursements') }}
    {{ records_to_recompute('disbursements', 'disbursement_id', staged_identifier('disbursement_id')) }}
),

cleaned as (
    select
        _source_file as source_file,
        _first_line as source_line,
        _last_line as source_last_line,
        {{ staged_text_columns([
            ('disbursement_id', 'disbursement_id', 'identifier'),
            ('application_id', 'application_id', 'identifier'),
            ('paid_on_text', 'paid_on', 'text'),
            ('amount_text', 'amount', 'text'),
            ('kind', 'kind', 'text'),
            ('paying_bureau', 'paying_bureau', 'text'),
            ('voucher_no', 'voucher_no', 'identifier'),
        ]) }}
    from source
),

typed as (
    select
        *,
        {{ safe_to_date('paid_on_text') }} as paid_on,
        {{ safe_to_money('amount_text') }} as amount
    from cleaned
),

checked as {{ cte_hint('materialized') }} (
    select
        *,
        {{ join_reasons([
            reason_if_missing('disbursement_id', '拨付编号'),
            reason_if_missing('application_id', '申报编号'),
            reason_if_missing('paid_on_text', '拨付日期', 'paid_on'),
            reason_if_missing('amount_text', '拨付金额', 'amount'),
            reason_if_missing('kind', '拨付类型'),
            reason_if_not_in('kind', ['payment', 'clawback'], '拨付类型'),
            reason_if_unreadable('paid_on_text', 'paid_on', '拨付日期', '有效日期（YYYY-MM-DD）'),
            reason_if_bad_amount('amount_text', 'amount', '拨付金额'),
            "case when amount = 0 then '拨付金额（amount）必须大于零' end",
        ]) }} as value_rejection_reason
    from typed
),

repeated as (
    {{ repeated_identifiers('checked', 'disbursement_id',
        ['application_id', 'paid_on_text', 'amount_text', 'kind', 'paying_bureau', 'voucher_no']) }}
)

select
    -- provenance
    {{ current_batch() }} as _batch,
    checked.source_file,
    checked.source_line,
    checked.source_last_line,
    -- ids
    checked.disbursement_id,
    checked.application_id,
    checked.voucher_no,
    -- attributes
    checked.kind,
    checked.paying_bureau,
    -- amounts
    {{ text_unless_staged('checked.amount_text') }} as amount_text,
    checked.amount,
    -- dates
    {{ text_unless_staged('checked.paid_on_text') }} as paid_on_text,
    checked.paid_on,
    -- disposition
    checked.value_rejection_reason,
    {{ disposition_columns('checked.disbursement_id', '拨付编号') }}
from checked
left join repeated on checked.disbursement_id = repeated.disbursement_id
