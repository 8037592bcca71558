-- unknown_reference: an application naming an unknown beneficiary or clause, or a disbursement naming
-- an unknown application.
select
    'unknown_reference' as rule_code,
    'application' as record_type,
    application_id as record_id,
    beneficiary_id,
    clause_code,
    approving_bureau as bureau,
    award_year,
    coalesce(approved_amount, requested_amount, 0) as amount_at_issue,
    case
        when not is_beneficiary_known and not is_clause_known
            then {{ dbt.concat(["'主体 '", 'beneficiary_id_masked', "' 与条款 '", 'clause_code', "' 均不存在'"]) }}
        when not is_beneficiary_known then {{ dbt.concat(["'主体 '", 'beneficiary_id_masked', "' 不存在'"]) }}
        else {{ dbt.concat(["'政策条款 '", 'clause_code', "' 不存在'"]) }}
    end as detail
from {{ ref('int_applications_resolved') }}
where not is_beneficiary_known or not is_clause_known

union all

select
    'unknown_reference' as rule_code,
    'disbursement' as record_type,
    disbursement_id as record_id,
    beneficiary_id,
    clause_code,
    paying_bureau as bureau,
    award_year,
    signed_amount as amount_at_issue,
    {{ dbt.concat(["'申报 '", 'application_id', "' 不存在'"]) }} as detail
from {{ ref('fct_disbursements') }}
where not is_application_known
