-- Every raw beneficiary record, cast and checked, with how it ends up (staged, rejected, collapsed).
-- The identifier is replaced here by its pseudonym and public form: nothing after this sees it in clear,
-- and a resident ID number written in any other column is replaced by its holder's pseudonym.
{{ config(materialized='incremental', unique_key='beneficiary_ref_hash', incremental_strategy=keyed_incremental_strategy(), post_hook='{{ note_rewritten_batch() }}') }}
with source as (
    select * from {{ source('raw', 'beneficiaries') }}
    {{ records_to_recompute('beneficiaries', 'beneficiary_ref_hash',
        beneficiary_ref_hash(normalised_beneficiary_id(folded_beneficiary_id('beneficiary_id')))) }}
),

divisions as (
    select * from {{ ref('cn_divisions') }}
),

cleaned as (
    select
        _source_file as source_file,
        _first_line as source_line,
        _last_line as source_last_line,
        {{ folded_beneficiary_id('beneficiary_id') }} as folded_beneficiary_id,
        {{ staged_text_columns([
            ('beneficiary_name', 'beneficiary_name', 'text'),
            ('beneficiary_type', 'beneficiary_type', 'text'),
            ('id_type', 'id_type', 'text'),
            ('registered_on_text', 'registered_on', 'text'),
            ('district', 'district', 'text'),
        ]) }}
    from source
),

identified as (
    select
        *,
        {{ normalised_beneficiary_id('folded_beneficiary_id') }} as normalised_beneficiary_id
    from cleaned
),

typed as (
    select
        *,
        {{ safe_to_date('registered_on_text') }} as registered_on,
        {{ beneficiary_ref_hash('normalised_beneficiary_id') }} as beneficiary_ref_hash,
        {{ looks_like_resident_id('normalised_beneficiary_id') }} as is_resident_number,
        substr(normalised_beneficiary_id, 1, 6) as birth_division,
        {{ safe_to_integer('substr(normalised_beneficiary_id, 7, 4)') }} as birth_year
    from identified
),

-- (division, birth year) pairs that name a division in use that year, as python-stdnum checks it
birth_places as (
    select distinct
        typed.birth_division,
        typed.birth_year
    from typed
    inner join divisions
        on typed.birth_division = divisions.division_code
        and coalesce(divisions.first_year, typed.birth_year) <= typed.birth_year
        and coalesce(divisions.last_year, typed.birth_year) >= typed.birth_year
    where typed.id_type = 'resident_id'
),

placed as (
    select
        typed.*,
        birth_places.birth_division is not null as is_birth_place_known
    from typed
    left join birth_places
        on typed.birth_division = birth_places.birth_division
        and typed.birth_year = birth_places.birth_year
),

checked as (
    select
        *,
        case id_type
            when 'uscc' then not is_resident_number and {{ is_valid_uscc('normalised_beneficiary_id') }}
            when 'resident_id' then {{ is_valid_resident_id('normalised_beneficiary_id', 'is_birth_place_known') }}
            when 'passport' then {{ is_valid_passport('normalised_beneficiary_id') }}
            else false
        end as is_id_valid,
        -- a person whatever the declared id type: a resident ID number given as a USCC is still a person's, and
        -- so is any id of a beneficiary of type person, or of a person's id type however spelt (Passport, 护照)
        coalesce(
            beneficiary_type = 'person' or lower(id_type) in ('resident_id', 'passport') or id_type in ('身份证', '居民身份证', '护照')
                or is_resident_number,
            false) as is_personal_id,
        {{ join_reasons([
            reason_if_missing('normalised_beneficiary_id', '主体编号', 'beneficiary_id'),
            reason_if_missing('beneficiary_name', '主体名称'),
            reason_if_missing('beneficiary_type', '主体类型'),
            reason_if_missing('id_type', '证件类型'),
            reason_if_not_in('beneficiary_type', ['enterprise', 'institution', 'investor', 'person'], '主体类型'),
            reason_if_not_in('id_type', ['uscc', 'resident_id', 'passport'], '证件类型'),
            reason_if_unreadable('registered_on_text', 'registered_on', '登记日期', '有效日期（YYYY-MM-DD）'),
        ]) }} as value_rejection_reason
    from placed
),

published as {{ cte_hint('materialized') }} (
    select
        *,
        case when is_personal_id
            then {{ person_pseudonym('normalised_beneficiary_id') }}
            else normalised_beneficiary_id
        end as beneficiary_id,
        case when is_personal_id
            then {{ mask_identifier('normalised_beneficiary_id') }}
            else normalised_beneficiary_id
        end as beneficiary_id_display
    from checked
),

repeated as (
    {{ repeated_identifiers('published', 'beneficiary_ref_hash',
        ['beneficiary_id', 'beneficiary_name', 'beneficiary_type', 'id_type', 'registered_on_text', 'district']) }}
)

select
    -- provenance
    {{ current_batch() }} as _batch,
    published.source_file,
    published.source_line,
    published.source_last_line,
    -- ids
    published.beneficiary_ref_hash,
    case when published.normalised_beneficiary_id is not null then published.beneficiary_id end as beneficiary_id,
    published.beneficiary_id_display,
    published.is_personal_id,
    published.is_id_valid,
    -- attributes
    published.beneficiary_name,
    published.beneficiary_type,
    published.id_type,
    {{ text_unless_staged('published.registered_on_text') }} as registered_on_text,
    published.registered_on,
    published.district,
    -- disposition
    published.value_rejection_reason,
    {{ disposition_columns('published.beneficiary_ref_hash', '主体编号') }}
from published
left join repeated on published.beneficiary_ref_hash = repeated.beneficiary_ref_hash
