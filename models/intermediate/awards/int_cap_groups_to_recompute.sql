-- The (beneficiary, clause) groups of agg_cap_utilization a daily load recomputes: those of every award whose
-- caps it recomputes (int_awards_to_recompute), as the award is now and as it was before this load (a
-- corrected re-issue can move an award to another beneficiary, or out of the awards). A group's running
-- lifetime total spans its years, so whole groups are recomputed. Empty on a full build.
-- depends_on: {{ ref('int_awards_to_recompute') }}
-- depends_on: {{ ref('int_applications_resolved') }}
{%- set previous = before_this_load('int_awards_static_limits') %}
{%- if previous is none %}
select cast(null as {{ text_type() }}) as beneficiary_id, cast(null as {{ text_type() }}) as clause_code
where false
{%- else %}
select beneficiary_id, clause_code
from {{ ref('int_applications_resolved') }}
where status = 'approved' and is_beneficiary_known and is_clause_known
    and application_id in ({{ awards_to_recompute() }})
union
select beneficiary_id, clause_code
from {{ previous }}
where application_id in ({{ awards_to_recompute() }})
{%- endif %}
