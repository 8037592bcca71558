-- overpaid: net disbursed (payments − clawbacks) above the approved amount of an approved application.
select
    'overpaid' as rule_code,
    'application' as record_type,
    applications.application_id as record_id,
    applications.beneficiary_id,
    applications.clause_code,
    applications.approving_bureau as bureau,
    applications.award_year,
    {{ money_total('payments.net_disbursed_amount - applications.approved_amount') }} as amount_at_issue,
    {{ dbt.concat(["'净拨付 '", dbt.cast('payments.net_disbursed_amount', api.Column.translate_type('string')),
                   "' 元，超过核定 '", dbt.cast('applications.approved_amount', api.Column.translate_type('string')), "' 元'"]) }}
        as detail
from {{ ref('int_applications_resolved') }} as applications
inner join {{ ref('int_application_payments') }} as payments
    on applications.application_id = payments.application_id
where applications.status = 'approved'
    and payments.net_disbursed_amount > applications.approved_amount
