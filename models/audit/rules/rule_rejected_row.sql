-- rejected_row: every raw row in audit.rejected_rows.
select
    'rejected_row' as rule_code,
    record_type,
    rejected_row_id as record_id,
    cast(null as {{ text_type() }}) as beneficiary_id,
    cast(null as {{ text_type() }}) as clause_code,
    cast(null as {{ text_type() }}) as bureau,
    cast(null as integer) as award_year,
    {{ money_total('0') }} as amount_at_issue,
    rejection_reason as detail
from {{ ref('rejected_rows') }}
