-- beneficiary_type_mismatch: the beneficiary's type is not one the clause supports.
select
    'beneficiary_type_mismatch' as rule_code,
    'application' as record_type,
    awards.application_id as record_id,
    awards.beneficiary_id,
    awards.clause_code,
    awards.approving_bureau as bureau,
    awards.award_year,
    awards.approved_amount as amount_at_issue,
    {{ dbt.concat(["'主体类型“'", types_zh('awards.beneficiary_type'), "'”不在条款支持对象“'",
                   types_zh('awards.allowed_beneficiary_types'), "'”内'"]) }} as detail
from {{ ref('int_awards_static_limits') }} as awards
where awards.is_type_not_allowed
