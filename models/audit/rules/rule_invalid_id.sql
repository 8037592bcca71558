-- invalid_id: a beneficiary whose identifier fails its check; the money approved to it is at issue.
with approved as (
    select beneficiary_id, sum(approved_amount) as approved_amount
    from {{ ref('fct_awards') }}
    group by beneficiary_id
)

select
    'invalid_id' as rule_code,
    'beneficiary' as record_type,
    beneficiaries.beneficiary_id as record_id,
    beneficiaries.beneficiary_id,
    cast(null as {{ text_type() }}) as clause_code,
    cast(null as {{ text_type() }}) as bureau,
    cast(null as integer) as award_year,
    {{ money_total('coalesce(approved.approved_amount, 0)') }} as amount_at_issue,
    {{ dbt.concat(["'证件号码 '", 'beneficiaries.beneficiary_id_display', "'（'", 'beneficiaries.id_type', "'）未通过校验'"]) }}
        as detail
from {{ ref('dim_beneficiaries') }} as beneficiaries
left join approved on beneficiaries.beneficiary_id = approved.beneficiary_id
where not beneficiaries.is_id_valid
