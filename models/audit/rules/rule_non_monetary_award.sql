-- non_monetary_award: money approved under a clause that grants none.
select
    'non_monetary_award' as rule_code,
    'application' as record_type,
    application_id as record_id,
    beneficiary_id,
    clause_code,
    approving_bureau as bureau,
    award_year,
    approved_amount as amount_at_issue,
    {{ dbt.concat(["'条款 '", 'clause_code', "' 为非资金类措施，却核定 '",
                   dbt.cast('approved_amount', api.Column.translate_type('string')), "' 元'"]) }} as detail
from {{ ref('fct_awards') }}
where ineligible_reason = 'non_monetary' and approved_amount > 0
