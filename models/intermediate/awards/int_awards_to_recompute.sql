-- The approved awards a daily load recomputes: the applications resolved again, closed over the scopes their
-- caps share — every award under the same beneficiary and clause (once-only, annual and lifetime caps; the
-- measure instead of the clause for exclusive clauses) or the same clause and project (project caps, once-only
-- per project), as the scopes are now and as they were before this load — so that every running cap is
-- computed again over its whole scope. The closure is exact (a recursive walk from scope to award to scope
-- until nothing new is reached): a 1% load reaches 6% of the awards at 1M applications, 5.5% at 10M. The walk
-- runs over 64-bit hashes of awards and scopes (text keys ran out of DuckDB's 3 GB at 10M); two keys that
-- collide are only walked as one, which can add awards to recompute, never leave one out.
-- Empty on a full build, which computes everything anyway.
-- daily loads read these to find what to recompute:
-- depends_on: {{ ref('int_applications_resolved') }}
-- depends_on: {{ ref('int_applications_to_resolve') }}
-- depends_on: {{ ref('int_policy_parameters') }}
{%- set previous = before_this_load('int_awards_static_limits') %}
{%- if previous is none %}
select cast(null as {{ text_type() }}) as application_id
where false
{%- else %}
with recursive resolved_again as (
    {{ applications_to_resolve() }}
),

-- every award as it was before this load, and the awards resolved again as they are now: an award that was not
-- resolved again has the same scopes now as before, so these are the scopes of every award, now and before
-- (without reading or joining every resolved application again)
awards as (
    select application_id, beneficiary_id, clause_code, project_id, coalesce(exclusive_group, clause_code) as cap_group
    from {{ previous }}
    union all
    -- cap_group: the clause, or the measure of an exclusive clause (its awards exclude each other)
    select
        applications.application_id,
        applications.beneficiary_id,
        applications.clause_code,
        applications.project_id,
        coalesce(clauses.exclusive_group, applications.clause_code)
    from {{ ref('int_applications_resolved') }} as applications
    left join {{ ref('int_policy_parameters') }} as clauses on applications.clause_code = clauses.clause_code
    where applications.status = 'approved' and applications.is_beneficiary_known and applications.is_clause_known
        and applications.application_id in (select application_id from resolved_again)
),

-- each award sits in one beneficiary scope and, with a project, in one project scope
scope_members as {{ cte_hint('materialized') }} (
    select
        application_id,
        {{ key_hash(['application_id']) }} as award_key,
        {{ key_hash(["'beneficiary'", 'beneficiary_id', 'cap_group']) }} as scope_key,
        project_id is not null as has_project
    from awards
    union all
    select
        application_id,
        {{ key_hash(['application_id']) }},
        {{ key_hash(["'project'", 'clause_code', 'project_id']) }},
        true
    from awards
    where project_id is not null
),

-- the walk can only pass from one scope to another through an award in two scopes: one with a project (a few
-- percent of the awards: at 10M, 292,329 of 7,102,747), or one resolved again, whose scopes now and before
-- all start the walk anyway; so its steps join these instead of every member
bridges as {{ cte_hint('materialized') }} (
    select award_key, scope_key
    from scope_members
    where has_project
),

-- union (not union all) keeps each scope once, so the walk stops when a step reaches no new scope
reached_scopes (scope_key) as (
    select scope_key
    from scope_members
    where application_id in (select application_id from resolved_again)
    union
    select next_scope.scope_key
    from reached_scopes
    inner join bridges as member on reached_scopes.scope_key = member.scope_key
    inner join bridges as next_scope on member.award_key = next_scope.award_key
)

select application_id from resolved_again
union
select application_id from scope_members
where scope_key in (select scope_key from reached_scopes)
{%- endif %}
