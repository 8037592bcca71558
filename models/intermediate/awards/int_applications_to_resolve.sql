-- The applications a daily load resolves again: those recomputed in staging, and those of a beneficiary
-- recomputed. Computed once per load for every model that reads them (int_applications_resolved,
-- int_awards_to_recompute, int_disbursements_to_resolve). Empty on a full build, which resolves everything.
-- depends_on: {{ ref('base_raw__applications') }}
-- depends_on: {{ ref('base_raw__beneficiaries') }}
-- depends_on: {{ ref('stg_raw__applications') }}
{%- if before_this_load('int_applications_resolved') is none %}
select cast(null as {{ text_type() }}) as application_id
where false
{%- else %}
{{ recomputed_keys('base_raw__applications', 'application_id') }}
union
select application_id from {{ ref('stg_raw__applications') }}
where beneficiary_ref_hash in ({{ recomputed_keys('base_raw__beneficiaries', 'beneficiary_ref_hash') }})
{%- endif %}
