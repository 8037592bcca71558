-- bureau_mismatch: the approving bureau of an approved application, or the paying bureau of a
-- disbursement, is not a responsible unit of the clause's measure.
select
    'bureau_mismatch' as rule_code,
    'application' as record_type,
    application_id as record_id,
    beneficiary_id,
    clause_code,
    approving_bureau as bureau,
    award_year,
    approved_amount as amount_at_issue,
    {{ dbt.concat(["'批准部门 '", "coalesce(approving_bureau, '（未填写）')", "' 不是措施 '", 'measure_code', "' 的责任单位'"]) }}
        as detail
from {{ ref('int_applications_resolved') }}
where status = 'approved' and is_clause_known and not is_approving_bureau_responsible

union all

select
    'bureau_mismatch' as rule_code,
    'disbursement' as record_type,
    disbursement_id as record_id,
    beneficiary_id,
    clause_code,
    paying_bureau as bureau,
    award_year,
    signed_amount as amount_at_issue,
    {{ dbt.concat(["'拨付部门 '", "coalesce(paying_bureau, '（未填写）')", "' 不是措施 '", 'measure_code', "' 的责任单位'"]) }}
        as detail
from {{ ref('fct_disbursements') }}
where measure_code is not null and not is_paying_bureau_responsible
