-- Steps 2-4 of the cap arithmetic: the running caps, in the order project → annual → lifetime, each
-- letting through, in (approved_on, application_id) order, only what still fits under it. The windows run
-- over the few columns they need, and only over capped rows; the result joins back onto the awards.
-- daily loads read these to find what to recompute:
-- depends_on: {{ ref('int_awards_to_recompute') }}
{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_rows_to_recompute('application_id', awards_to_recompute()) }}") }}
{%- set award_order = 'approved_on, application_id' %}
{%- set caps = [
    ('project', 'amount_into_running_caps', 'clause_code, project_id'),
    ('annual', 'passed_project_cap', 'beneficiary_id, clause_code, award_year'),
    ('lifetime', 'passed_annual_cap', 'beneficiary_id, clause_code'),
] %}
with static_limits as {{ cte_hint('not materialized') }} (
    select * from {{ ref('int_awards_static_limits') }}
    {%- if is_incremental() %}
    where application_id in ({{ awards_to_recompute() }})
    {%- endif %}
),

scopes as (
    select
        application_id,
        beneficiary_id,
        clause_code,
        award_year,
        project_id,
        approved_on,
        project_cap,
        annual_cap,
        lifetime_cap,
        amount_into_running_caps
    from static_limits
),

{%- for cap, amount, scope in caps %}
{%- set previous = 'scopes' if loop.first else caps[loop.index0 - 1][0] ~ '_capped' %}

-- a cap is a clause parameter and every scope lies within one clause, so a scope is capped either in all
-- its rows or in none: only capped rows need the window (at 1M applications 4% have a project cap, 26% an
-- annual one and 17% a lifetime one); the rest let everything through whatever came before
{{ cap }}_cumulated as (
    select
        *,
        {{ running_cap_cumulative_before(amount, scope, award_order) }} as before_{{ cap }}_cap
    from {{ previous }}
    where {{ cap }}_cap is not null
    union all
    select
        *,
        0 as before_{{ cap }}_cap
    from {{ previous }}
    where {{ cap }}_cap is null
),

{{ cap }}_capped as (
    select
        *,
        {{ running_cap_room('before_' ~ cap ~ '_cap', cap ~ '_cap') }} as {{ cap }}_cap_room,
        {{ running_cap_passed(amount, 'before_' ~ cap ~ '_cap', cap ~ '_cap') }} as passed_{{ cap }}_cap
    from {{ cap }}_cumulated
),
{%- endfor %}

amounts as (
    select
        static_limits.*,
        capped.project_cap_room,
        capped.passed_project_cap,
        capped.annual_cap_room,
        capped.passed_annual_cap,
        capped.lifetime_cap_room,
        capped.passed_lifetime_cap,
        cast(coalesce(
            least(static_limits.static_limit, capped.project_cap_room, capped.annual_cap_room, capped.lifetime_cap_room),
            static_limits.approved_amount
        ) as decimal(18, 2)) as eligible_amount,
        cast(capped.passed_lifetime_cap as decimal(18, 2)) as within_cap_amount
    from static_limits
    inner join lifetime_capped as capped
        on static_limits.application_id = capped.application_id
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
