-- paid_without_approval: a disbursement for an application that exists but is not approved.
select
    'paid_without_approval' as rule_code,
    'disbursement' as record_type,
    disbursement_id as record_id,
    beneficiary_id,
    clause_code,
    paying_bureau as bureau,
    award_year,
    signed_amount as amount_at_issue,
    {{ dbt.concat(["'申报 '", 'application_id', "' 状态为 '", 'application_status', "'，未获批准'"]) }} as detail
from {{ ref('fct_disbursements') }}
where is_application_known and application_status <> 'approved'
