-- The beneficiaries whose rows of agg_disbursements_by_company_year a daily load recomputes: the payee of every
-- disbursement it resolves again, as it is now and as fct_disbursements had it before this load (a corrected
-- re-issue can move a payment to another application, or out of the staged payments). A beneficiary's rows are
-- recomputed for every year. Payments whose application is unknown count as one payee, as in the rollup
-- (rollup_payee). Empty on a full build.
-- depends_on: {{ ref('int_disbursements_resolved') }}
-- depends_on: {{ ref('int_disbursements_to_resolve') }}
{%- set previous = before_this_load('fct_disbursements') %}
{%- if previous is none %}
select cast(null as {{ text_type() }}) as beneficiary_id
where false
{%- else %}
select {{ rollup_payee('beneficiary_id') }} as beneficiary_id
from {{ ref('int_disbursements_resolved') }}
where disbursement_id in ({{ disbursements_to_resolve() }})
union
select {{ rollup_payee('beneficiary_id') }}
from {{ previous }}
where disbursement_id in ({{ disbursements_to_resolve() }})
{%- endif %}
