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
-- depends_on: {{ ref('stg_raw__applications') }}
-- depends_on: {{ ref('base_raw__applications') }}
-- depends_on: {{ ref('base_raw__beneficiaries') }}
-- depends_on: {{ ref('int_policy_parameters') }}
{%- set previous = awards_before_this_load() %}
{%- if previous is none %}
select cast(null as {{ text_type() }}) as application_id
where false
{%- else %}
with recursive awards as (
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
    union all
    -- as they were before this load: an award may have left its scope, or the awards
    select application_id, beneficiary_id, clause_code, project_id, coalesce(exclusive_group, clause_code)
    from {{ previous }}
),

-- each award sits in one beneficiary scope and, with a project, in one project scope
scope_members as {{ cte_hint('materialized') }} (
    select {{ key_hash(['application_id']) }} as award_key, {{ key_hash(["'beneficiary'", 'beneficiary_id', 'cap_group']) }} as scope_key
    from awards
    union
    select {{ key_hash(['application_id']) }} as award_key, {{ key_hash(["'project'", 'clause_code', 'project_id']) }} as scope_key
    from awards
    where project_id is not null
),

-- the awards in two scopes or more: the walk can only pass from one scope to another through one of these (a few
-- percent of the awards: at 10M, those with a project), so its steps join these instead of every member
bridges as {{ cte_hint('materialized') }} (
    select award_key, scope_key
    from scope_members
    where award_key in (select award_key from scope_members group by award_key having count(*) > 1)
),

resolved_again as (
    {{ applications_to_resolve() }}
),

-- union (not union all) keeps each scope once, so the walk stops when a step reaches no new scope
reached_scopes (scope_key) as (
    select scope_key
    from scope_members
    where award_key in (select {{ key_hash(['application_id']) }} from resolved_again)
    union
    select next_scope.scope_key
    from reached_scopes
    inner join bridges as member on reached_scopes.scope_key = member.scope_key
    inner join bridges as next_scope on member.award_key = next_scope.award_key
),

reached_awards as (
    select award_key from scope_members
    where scope_key in (select scope_key from reached_scopes)
)

select application_id from resolved_again
union
select application_id from awards
where {{ key_hash(['application_id']) }} in (select award_key from reached_awards)
{%- endif %}
