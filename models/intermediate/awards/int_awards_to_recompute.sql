-- The approved awards a daily load recomputes: the applications resolved again, closed over the scopes their
-- caps share — every award under the same beneficiary and clause (once-only, annual and lifetime caps; the
-- measure instead of the clause for exclusive clauses) or the same clause and project (project caps, once-only
-- per project), as the scopes are now and as they were before this load — so that every running cap is
-- computed again over its whole scope. The closure is exact (a recursive walk from scope to award to scope
-- until nothing new is reached): at 1M applications a 1% load reaches 6% of the awards after 6 steps.
-- Empty on a full build, which computes everything anyway.
-- daily loads read these to find what to recompute:
-- depends_on: {{ ref('int_applications_resolved') }}
-- depends_on: {{ ref('stg_raw__applications') }}
-- depends_on: {{ ref('base_raw__applications') }}
-- depends_on: {{ ref('base_raw__beneficiaries') }}
-- depends_on: {{ ref('int_policy_parameters') }}
{%- set previous = adapter.get_relation(database=this.database, schema=this.schema, identifier='int_awards_static_limits') %}
{%- if previous is none or flags.FULL_REFRESH %}
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
    union
    -- as they were before this load: an award may have left its scope, or the awards
    select application_id, beneficiary_id, clause_code, project_id, coalesce(exclusive_group, clause_code)
    from {{ previous }}
),

-- each award sits in one beneficiary scope and, with a project, in one project scope
scope_members as (
    select application_id, 'beneficiary' as scope_kind, beneficiary_id as scope_owner, cap_group as scope_key
    from awards
    union all
    select application_id, 'project' as scope_kind, clause_code as scope_owner, project_id as scope_key
    from awards
    where project_id is not null
),

resolved_again as (
    {{ applications_to_resolve() }}
),

-- union (not union all) keeps each scope once, so the walk stops when a step reaches no new scope
reached_scopes (scope_kind, scope_owner, scope_key) as (
    select scope_kind, scope_owner, scope_key
    from scope_members
    where application_id in (select application_id from resolved_again)
    union
    select next_scope.scope_kind, next_scope.scope_owner, next_scope.scope_key
    from reached_scopes
    inner join scope_members as member
        on reached_scopes.scope_kind = member.scope_kind
        and reached_scopes.scope_owner = member.scope_owner
        and reached_scopes.scope_key = member.scope_key
    inner join scope_members as next_scope on member.application_id = next_scope.application_id
)

select application_id from resolved_again
union
select scope_members.application_id
from scope_members
inner join reached_scopes
    on scope_members.scope_kind = reached_scopes.scope_kind
    and scope_members.scope_owner = reached_scopes.scope_owner
    and scope_members.scope_key = reached_scopes.scope_key
{%- endif %}
