-- outside_policy_period: an approved award whose award_year is outside the policy window.
select
    'outside_policy_period' as rule_code,
    'application' as record_type,
    applications.application_id as record_id,
    applications.beneficiary_id,
    applications.clause_code,
    applications.approving_bureau as bureau,
    applications.award_year,
    applications.approved_amount as amount_at_issue,
    {{ dbt.concat(["'申报年度 '", dbt.cast('applications.award_year', api.Column.translate_type('string')),
                   "' 不在政策执行期 '", dbt.cast('policy_window.first_award_year', api.Column.translate_type('string')),
                   "'—'", dbt.cast('policy_window.last_award_year', api.Column.translate_type('string')), "' 内'"]) }}
        as detail
from {{ ref('int_applications_resolved') }} as applications
cross join {{ ref('policy_window') }} as policy_window
where applications.status = 'approved'
    and (applications.award_year < policy_window.first_award_year
        or applications.award_year > policy_window.last_award_year)
