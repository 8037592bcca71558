-- date_order: approved before applied, or paid before approved.
select
    'date_order' as rule_code,
    'application' as record_type,
    application_id as record_id,
    beneficiary_id,
    clause_code,
    approving_bureau as bureau,
    award_year,
    coalesce(approved_amount, 0) as amount_at_issue,
    {{ dbt.concat(["'批准日期 '", dbt.cast('approved_on', api.Column.translate_type('string')),
                   "' 早于申报日期 '", dbt.cast('applied_on', api.Column.translate_type('string'))]) }} as detail
from {{ ref('int_applications_resolved') }}
where approved_on < applied_on

union all

select
    'date_order' as rule_code,
    'disbursement' as record_type,
    disbursement_id as record_id,
    beneficiary_id,
    clause_code,
    paying_bureau as bureau,
    award_year,
    signed_amount as amount_at_issue,
    {{ dbt.concat(["'拨付日期 '", dbt.cast('paid_on', api.Column.translate_type('string')),
                   "' 早于批准日期 '", dbt.cast('application_approved_on', api.Column.translate_type('string'))]) }} as detail
from {{ ref('fct_disbursements') }}
where application_status = 'approved' and paid_on < application_approved_on
