-- over_cap: an approved amount above what the policy allows (any cap kind); the excess is at issue. The limit
-- that held it is named in Chinese (seed binding_limits).
select
    'over_cap' as rule_code,
    'application' as record_type,
    awards.application_id as record_id,
    awards.beneficiary_id,
    awards.clause_code,
    awards.approving_bureau as bureau,
    awards.award_year,
    awards.over_cap_amount as amount_at_issue,
    {{ dbt.concat(["'核定 '", dbt.cast('awards.approved_amount', api.Column.translate_type('string')),
                   "' 元，政策允许 '", dbt.cast('awards.within_cap_amount', api.Column.translate_type('string')),
                   "' 元（受限于 '", "coalesce(limits.name_zh, awards.binding_limit, '')", "'）'"]) }} as detail
from {{ ref('fct_awards') }} as awards
left join {{ ref('binding_limits') }} as limits on awards.binding_limit = limits.binding_limit
where awards.over_cap_amount > 0
