-- How much of each running cap a beneficiary has used, per clause and award year.
-- daily loads recompute the (beneficiary, clause) groups of the awards they recompute:
{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_rows_to_recompute('(beneficiary_id, clause_code)', cap_groups_to_recompute()) }}") }}
with awards as (
    select * from {{ ref('fct_awards') }}
    {%- if is_incremental() %}
    where (beneficiary_id, clause_code) in ({{ cap_groups_to_recompute() }})
    {%- endif %}
),

clauses as (
    select * from {{ ref('policy_clauses') }}
),

per_year as (
    select
        beneficiary_id,
        beneficiary_name,
        clause_code,
        award_year,
        count(*) as award_count,
        {{ money_total('sum(approved_amount)') }} as approved_amount,
        {{ money_total('sum(within_cap_amount)') }} as within_cap_amount,
        {{ money_total('sum(over_cap_amount)') }} as over_cap_amount
    from awards
    group by beneficiary_id, beneficiary_name, clause_code, award_year
),

with_running as (
    select
        *,
        cast(sum(within_cap_amount) over (
            partition by beneficiary_id, clause_code order by award_year
            rows between unbounded preceding and current row
        ) as decimal(38, 2)) as lifetime_within_cap_amount
    from per_year
)

select
    with_running.beneficiary_id,
    with_running.beneficiary_name,
    with_running.clause_code,
    clauses.measure_code,
    with_running.award_year,
    with_running.award_count,
    with_running.approved_amount,
    with_running.within_cap_amount,
    with_running.over_cap_amount,
    clauses.annual_cap,
    case when clauses.annual_cap > 0
        then cast({{ divide_round_half_up('with_running.within_cap_amount', 'clauses.annual_cap', 4) }} as decimal(9, 4))
    end as annual_cap_share_used,
    case when clauses.annual_cap is not null
        then {{ money_total('clauses.annual_cap - with_running.within_cap_amount') }}
    end as annual_cap_room_left,
    with_running.lifetime_within_cap_amount,
    clauses.lifetime_cap,
    case when clauses.lifetime_cap > 0
        then cast({{ divide_round_half_up('with_running.lifetime_within_cap_amount', 'clauses.lifetime_cap', 4) }} as decimal(9, 4))
    end as lifetime_cap_share_used
from with_running
inner join clauses on with_running.clause_code = clauses.clause_code
