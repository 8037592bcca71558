-- Every ambiguous parameter of the draft (seed policy_readings), with the value the clause seed gives it
-- (baseline), the default reading, and the chosen one: an alternative picked in seed policy_reading_choices
-- (empty in the repository; `subsidy simulate` fills its own copy), else the default.
with clauses as (
    select * from {{ ref('policy_clauses') }}
),

readings as (
    select * from {{ ref('policy_readings') }}
),

choices as (
    select * from {{ ref('policy_reading_choices') }}
),

-- each parameter as seed policy_clauses encodes it, one row per clause and parameter
baseline as (
    select
        clause_code,
        'cap_scope' as parameter,
        -- the scope of the clause's only cap (null when it has none or several: no scope to move)
        case
            when (case when per_award_cap is null then 0 else 1 end) + (case when annual_cap is null then 0 else 1 end)
                + (case when lifetime_cap is null then 0 else 1 end) + (case when project_cap is null then 0 else 1 end) = 1
                then case
                    when per_award_cap is not null then 'per_award'
                    when annual_cap is not null then 'annual'
                    when lifetime_cap is not null then 'lifetime'
                    else 'project'
                end
        end as baseline_value
    from clauses
    union all
    select clause_code, 'day_count', cast(interest_day_count as {{ text_type() }}) from clauses
    union all
    select clause_code, 'allowed_beneficiary_types', allowed_beneficiary_types from clauses
    union all
    select clause_code, 'once_only_scope', case when is_once_only then 'beneficiary' else 'none' end from clauses
    union all
    select clause_code, 'stacking', 'stack' from clauses
)

select
    readings.clause_code,
    readings.parameter,
    baseline.baseline_value,
    readings.default_value,
    readings.alternative_values,
    choices.value as chosen_alternative,
    coalesce(choices.value, readings.default_value) as chosen_value
from readings
left join baseline
    on readings.clause_code = baseline.clause_code
    and readings.parameter = baseline.parameter
left join choices
    on readings.clause_code = choices.clause_code
    and readings.parameter = choices.parameter
