-- paid_without_approval: a disbursement for an application that is not approved, or that does not exist
-- (money paid with no application on record is the plainest case of paying without approval).
select
    'paid_without_approval' as rule_code,
    'disbursement' as record_type,
    disbursement_id as record_id,
    beneficiary_id,
    clause_code,
    paying_bureau as bureau,
    award_year,
    signed_amount as amount_at_issue,
    case
        when not is_application_known then {{ dbt.concat(["'申报 '", 'application_id', "' 不存在，无批准依据'"]) }}
        else {{ dbt.concat(["'申报 '", 'application_id', "' 状态为'", status_zh('application_status'), "'，未获批准'"]) }}
    end as detail
from {{ ref('fct_disbursements') }}
where not is_application_known or application_status <> 'approved'
