-- The approved awards a daily load recomputes: the applications resolved again, closed over the scopes their
-- caps share — every award under the same beneficiary and clause (once-only, annual and lifetime caps) or the
-- same clause and project (project caps), as the scopes are now and as they were before this load — so that
-- every running cap is computed again over its whole scope. After {{ 4 }} rounds the set must be closed;
-- when it is not, every award is recomputed. Empty on a full build, which computes everything anyway.
-- daily loads read these to find what to recompute:
-- depends_on: {{ ref('int_applications_resolved') }}
-- depends_on: {{ ref('stg_raw__applications') }}
-- depends_on: {{ ref('base_raw__applications') }}
-- depends_on: {{ ref('base_raw__beneficiaries') }}
{%- set rounds = 4 %}
{%- set previous = adapter.get_relation(database=this.database, schema=this.schema, identifier='int_awards_static_limits') %}
{%- if previous is none or flags.FULL_REFRESH %}
select cast(null as {{ text_type() }}) as application_id
where false
{%- else %}
with awards as (
    select application_id, beneficiary_id, clause_code, project_id
    from {{ ref('int_applications_resolved') }}
    where status = 'approved' and is_beneficiary_known and is_clause_known
    union
    -- as they were before this load: an award may have left its scope, or the awards
    select application_id, beneficiary_id, clause_code, project_id
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
        select distinct beneficiary_id, clause_code from awards
        where application_id in (select application_id from round_{{ round - 1 }})
    ) as scopes
        on awards.beneficiary_id = scopes.beneficiary_id and awards.clause_code = scopes.clause_code
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
