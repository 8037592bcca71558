-- The approved awards a daily load recomputes: the applications resolved again, closed over the scopes their
-- caps share — every award under the same beneficiary and clause (once-only, annual and lifetime caps; the
-- measure instead of the clause for exclusive clauses) or the same clause and project (project caps, once-only
-- per project), as the scopes are now and as they were before this load — so that
-- every running cap is computed again over its whole scope. After {{ 4 }} rounds the set must be closed;
-- when it is not, every award is recomputed. Empty on a full build, which computes everything anyway.
-- daily loads read these to find what to recompute:
-- depends_on: {{ ref('int_applications_resolved') }}
-- depends_on: {{ ref('stg_raw__applications') }}
-- depends_on: {{ ref('base_raw__applications') }}
-- depends_on: {{ ref('base_raw__beneficiaries') }}
-- depends_on: {{ ref('int_policy_parameters') }}
{%- set rounds = 4 %}
{%- set previous = adapter.get_relation(database=this.database, schema=this.schema, identifier='int_awards_static_limits') %}
{%- if previous is none or flags.FULL_REFRESH %}
select cast(null as {{ text_type() }}) as application_id
where false
{%- else %}
with awards as (
    -- cap_group: the clause, or the measure of an exclusive clause (its awards exclude each other)
    select
        applications.application_id,
        applications.beneficiary_id,
        applications.clause_code,
        applications.project_id,
        coalesce(clauses.exclusive_group, applications.clause_code) as cap_group
    from {{ ref('int_applications_resolved') }} as applications
    left join {{ ref('int_policy_parameters') }} as clauses on applications.clause_code = clauses.clause_code
    where applications.status = 'approved' and applications.is_beneficiary_known and applications.is_clause_known
    union
    -- as they were before this load: an award may have left its scope, or the awards
    select application_id, beneficiary_id, clause_code, project_id, coalesce(exclusive_group, clause_code)
    from {{ previous }}
),

round_0 as (
    {{ applications_to_resolve() }}
),
{%- for round in range(1, rounds + 1) %}

round_{{ round }} as (
    select application_id from round_{{ round - 1 }}
    union
    select awards.application_id
    from awards
    inner join (
        select distinct beneficiary_id, cap_group from awards
        where application_id in (select application_id from round_{{ round - 1 }})
    ) as scopes
        on awards.beneficiary_id = scopes.beneficiary_id and awards.cap_group = scopes.cap_group
    union
    select awards.application_id
    from awards
    inner join (
        select distinct clause_code, project_id from awards
        where project_id is not null and application_id in (select application_id from round_{{ round - 1 }})
    ) as projects
        on awards.clause_code = projects.clause_code and awards.project_id = projects.project_id
),
{%- endfor %}

closed as (
    select (select count(*) from round_{{ rounds }}) = (select count(*) from round_{{ rounds - 1 }}) as is_closed
)

select application_id from round_{{ rounds }}
where (select is_closed from closed)
union
select application_id from awards
where not (select is_closed from closed)
{%- endif %}
