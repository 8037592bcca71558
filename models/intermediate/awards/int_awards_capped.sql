-- Steps 2-4 of the cap arithmetic: the running caps, in the order project → annual → lifetime, each
-- letting through, in (approved_on, application_id) order, only what still fits under it.
{%- set award_order = 'approved_on, application_id' %}
with static_limits as (
    select * from {{ ref('int_awards_static_limits') }}
),

project_capped as (
    select
        *,
        {{ running_cap_room('amount_into_running_caps', 'project_cap', 'clause_code, project_id', award_order) }}
            as project_cap_room,
        {{ running_cap_passed('amount_into_running_caps', 'project_cap', 'clause_code, project_id', award_order) }}
            as passed_project_cap
    from static_limits
),

annual_capped as (
    select
        *,
        {{ running_cap_room('passed_project_cap', 'annual_cap', 'beneficiary_id, clause_code, award_year', award_order) }}
            as annual_cap_room,
        {{ running_cap_passed('passed_project_cap', 'annual_cap', 'beneficiary_id, clause_code, award_year', award_order) }}
            as passed_annual_cap
    from project_capped
),

lifetime_capped as (
    select
        *,
        {{ running_cap_room('passed_annual_cap', 'lifetime_cap', 'beneficiary_id, clause_code', award_order) }}
            as lifetime_cap_room,
        {{ running_cap_passed('passed_annual_cap', 'lifetime_cap', 'beneficiary_id, clause_code', award_order) }}
            as passed_lifetime_cap
    from annual_capped
),

amounts as (
    select
        *,
        cast(coalesce(least(static_limit, project_cap_room, annual_cap_room, lifetime_cap_room), approved_amount)
            as decimal(18, 2)) as eligible_amount,
        cast(passed_lifetime_cap as decimal(18, 2)) as within_cap_amount
    from lifetime_capped
)

select
    *,
    cast(approved_amount - within_cap_amount as decimal(18, 2)) as over_cap_amount,
    -- the first limit, in the order they are applied, that held the award below its approved amount
    case
        when within_cap_amount >= approved_amount then null
        when ineligible_reason is not null then ineligible_reason
        when per_award_limit < approved_amount and per_award_limit = static_limit then 'per_award'
        when ratio_limit < approved_amount and ratio_limit = static_limit then 'ratio_of_base'
        when tier_limit < approved_amount and tier_limit = static_limit then 'tier'
        when interest_limit < approved_amount and interest_limit = static_limit then 'lpr_interest'
        when passed_project_cap < amount_into_running_caps then 'project_cap'
        when passed_annual_cap < passed_project_cap then 'annual_cap'
        else 'lifetime_cap'
    end as binding_limit
from amounts
