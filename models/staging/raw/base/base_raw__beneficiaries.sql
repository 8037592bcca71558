-- Every raw beneficiary row, cast and checked, with how it ends up (staged, rejected, collapsed).
-- The identifier is replaced here by its pseudonym and public form: nothing after this sees it in clear.
with source as (
    select * from {{ source('raw', 'beneficiaries') }}
),

trimmed as (
    select
        _source_file as source_file,
        _row_number as source_row_number,
        {{ clean_text('beneficiary_id') }} as raw_beneficiary_id,
        {{ clean_text('beneficiary_name') }} as beneficiary_name,
        {{ clean_text('beneficiary_type') }} as beneficiary_type,
        {{ clean_text('id_type') }} as id_type,
        {{ clean_text('registered_on') }} as registered_on_text,
        {{ clean_text('district') }} as district
    from source
),

typed as (
    select
        *,
        {{ safe_to_date('registered_on_text') }} as registered_on,
        {{ row_fingerprint(['raw_beneficiary_id', 'beneficiary_name', 'beneficiary_type', 'id_type',
                            'registered_on_text', 'district']) }} as row_fingerprint,
        case when raw_beneficiary_id is not null
            then {{ beneficiary_ref_hash('raw_beneficiary_id') }} end as beneficiary_ref_hash
    from trimmed
),

checked as (
    select
        *,
        {{ join_reasons([
            reason_if_missing('raw_beneficiary_id', '主体编号'),
            reason_if_missing('beneficiary_name', '主体名称'),
            reason_if_missing('beneficiary_type', '主体类型'),
            reason_if_missing('id_type', '证件类型'),
            reason_if_not_in('beneficiary_type', ['enterprise', 'institution', 'investor', 'person'], '主体类型'),
            reason_if_not_in('id_type', ['uscc', 'resident_id', 'passport'], '证件类型'),
            reason_if_unreadable('registered_on_text', 'registered_on', '登记日期', '有效日期（YYYY-MM-DD）'),
        ]) }} as value_rejection_reason
    from typed
)

select
    -- provenance
    source_file,
    source_row_number,
    row_fingerprint,
    -- ids
    beneficiary_ref_hash,
    case when raw_beneficiary_id is not null
        then {{ beneficiary_public_id('raw_beneficiary_id', 'id_type') }} end as beneficiary_id,
    case when id_type = 'uscc' then raw_beneficiary_id
        else {{ mask_identifier('raw_beneficiary_id') }} end as beneficiary_id_display,
    case id_type
        when 'uscc' then {{ is_valid_uscc('raw_beneficiary_id') }}
        when 'resident_id' then {{ is_valid_resident_id('raw_beneficiary_id') }}
        when 'passport' then {{ is_valid_passport('raw_beneficiary_id') }}
        else false
    end as is_id_valid,
    -- attributes
    beneficiary_name,
    beneficiary_type,
    id_type,
    registered_on_text,
    registered_on,
    district,
    -- disposition
    value_rejection_reason,
    {{ id_copies('beneficiary_ref_hash') }} as id_copies,
    {{ row_disposition('beneficiary_ref_hash') }} as row_disposition,
    {{ disposition_reason('beneficiary_ref_hash', '主体编号') }} as rejection_reason
from checked
