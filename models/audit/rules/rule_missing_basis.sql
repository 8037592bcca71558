-- missing_basis: a basis the cap needs is missing (base amount, tier, project, loan, LPR).
select
    'missing_basis' as rule_code,
    'application' as record_type,
    application_id as record_id,
    beneficiary_id,
    clause_code,
    approving_bureau as bureau,
    award_year,
    approved_amount as amount_at_issue,
    missing_basis_detail as detail
from {{ ref('int_awards_static_limits') }}
where missing_basis_detail is not null
