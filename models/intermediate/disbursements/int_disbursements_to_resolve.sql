-- The disbursements a daily load resolves again: those recomputed in staging, and those of an application
-- resolved again. Computed once per load for every model that reads them (fct_disbursements,
-- int_payees_to_recompute). Empty on a full build, which resolves everything.
-- depends_on: {{ ref('base_raw__disbursements') }}
-- depends_on: {{ ref('stg_raw__disbursements') }}
-- depends_on: {{ ref('int_applications_to_resolve') }}
{%- if before_this_load('fct_disbursements') is none %}
select cast(null as {{ text_type() }}) as disbursement_id
where false
{%- else %}
{{ recomputed_keys('base_raw__disbursements', 'disbursement_id') }}
union
select disbursement_id from {{ ref('stg_raw__disbursements') }}
where application_id in ({{ applications_to_resolve() }})
{%- endif %}
