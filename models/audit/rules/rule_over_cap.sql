-- over_cap: an approved amount above what the policy allows (any cap kind); the excess is at issue.
select
    'over_cap' as rule_code,
    'application' as record_type,
    application_id as record_id,
    beneficiary_id,
    clause_code,
    approving_bureau as bureau,
    award_year,
    over_cap_amount as amount_at_issue,
    {{ dbt.concat(["'核定 '", dbt.cast('approved_amount', api.Column.translate_type('string')),
                   "' 元，政策允许 '", dbt.cast('within_cap_amount', api.Column.translate_type('string')),
                   "' 元（受限于 '", "coalesce(binding_limit, '')", "'）'"]) }} as detail
from {{ ref('fct_awards') }}
where over_cap_amount > 0
