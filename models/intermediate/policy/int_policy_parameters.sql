-- The policy as the cap arithmetic reads it: one row per clause, seed policy_clauses under the chosen reading
-- of each ambiguous parameter (int_policy_readings_resolved). A cap_scope reading moves the clause's one cap
-- to another scope (per award, year, lifetime, project); the other readings replace the parameter's value.
with clauses as (
    select * from {{ ref('policy_clauses') }}
),

chosen as (
    select
        clause_code,
        max(case when parameter = 'cap_scope' then chosen_value end) as cap_scope,
        max(case when parameter = 'day_count' then chosen_value end) as day_count,
        max(case when parameter = 'allowed_beneficiary_types' then chosen_value end) as allowed_beneficiary_types,
        max(case when parameter = 'once_only_scope' then chosen_value end) as once_only_scope,
        max(case when parameter = 'stacking' then chosen_value end) as stacking,
        {{ dbt.listagg(dbt.concat(['clause_code', "'.'", 'parameter', "'='", 'chosen_alternative']), "', '", "order by parameter") }}
            as readings_chosen
    from {{ ref('int_policy_readings_resolved') }}
    group by clause_code
),

resolved as (
    select
        clauses.clause_code,
        clauses.measure_code,
        clauses.is_monetary,
        coalesce(chosen.allowed_beneficiary_types, clauses.allowed_beneficiary_types) as allowed_beneficiary_types,
        clauses.base_kind,
        clauses.base_ratio,
        chosen.cap_scope,
        -- the clause's one cap, for a cap_scope reading to place
        coalesce(clauses.per_award_cap, clauses.annual_cap, clauses.lifetime_cap, clauses.project_cap) as movable_cap,
        clauses.per_award_cap,
        clauses.annual_cap,
        clauses.lifetime_cap,
        clauses.project_cap,
        coalesce(chosen.once_only_scope, case when clauses.is_once_only then 'beneficiary' else 'none' end)
            as once_only_scope,
        coalesce(chosen.stacking, 'stack') as stacking,
        clauses.uses_tiers,
        clauses.uses_lpr_interest,
        coalesce(cast(chosen.day_count as integer), clauses.interest_day_count) as interest_day_count,
        chosen.readings_chosen
    from clauses
    left join chosen on clauses.clause_code = chosen.clause_code
)

select
    clause_code,
    measure_code,
    is_monetary,
    allowed_beneficiary_types,
    base_kind,
    base_ratio,
    -- caps, yuan
    cast(case when cap_scope is null then per_award_cap when cap_scope = 'per_award' then movable_cap end
        as decimal(18, 2)) as per_award_cap,
    cast(case when cap_scope is null then annual_cap when cap_scope = 'annual' then movable_cap end
        as decimal(18, 2)) as annual_cap,
    cast(case when cap_scope is null then lifetime_cap when cap_scope = 'lifetime' then movable_cap end
        as decimal(18, 2)) as lifetime_cap,
    cast(case when cap_scope is null then project_cap when cap_scope = 'project' then movable_cap end
        as decimal(18, 2)) as project_cap,
    -- once-only awards and stacking
    once_only_scope <> 'none' as is_once_only,
    once_only_scope,
    stacking,
    case when stacking = 'exclusive' then measure_code end as exclusive_group,
    uses_tiers,
    uses_lpr_interest,
    interest_day_count,
    readings_chosen
from resolved
