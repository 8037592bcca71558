-- Step 1 of the cap arithmetic: for every approved application with a known beneficiary and clause,
-- the limits that do not depend on other awards (per award, share of base, tier, LPR interest), the
-- cases that make it ineligible (non-monetary clause, type not allowed, missing basis, once-only
-- repeat, a clause exclusive of one already granted), and x = least(approved, static limit), the amount
-- that enters the running caps. The clause parameters are those of the chosen readings (int_policy_parameters).
-- daily loads read these to find what to recompute:
-- depends_on: {{ ref('int_awards_to_recompute') }}
-- (and, before this model replaces its rows, the groups of agg_cap_utilization they were in)
-- depends_on: {{ ref('int_cap_groups_to_recompute') }}
{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_rows_to_recompute('application_id', awards_to_recompute()) }}") }}
with applications as {{ cte_hint('not materialized') }} (
    select * from {{ ref('int_applications_resolved') }}
    where status = 'approved' and is_beneficiary_known and is_clause_known
    {%- if is_incremental() %}
        and application_id in ({{ awards_to_recompute() }})
    {%- endif %}
),

clauses as (
    select * from {{ ref('int_policy_parameters') }}
),

tiers as (
    select * from {{ ref('policy_clause_tiers') }}
),

lpr_rates as (
    select * from {{ ref('policy_lpr_rates') }}
),

-- the LPR announcement in force on each loan's start date: the latest one taking effect on or before it
lpr_in_force as (
    select
        applications.application_id,
        lpr_rates.effective_on as lpr_effective_on,
        lpr_rates.lpr_1y_pct,
        lpr_rates.lpr_5y_pct,
        row_number() over (
            partition by applications.application_id order by lpr_rates.effective_on desc
        ) as recency
    from applications
    inner join lpr_rates on lpr_rates.effective_on <= applications.loan_start_on
),

joined as {{ cte_hint('not materialized') }} (
    select
        applications.*,
        clauses.is_monetary,
        clauses.allowed_beneficiary_types,
        clauses.base_kind,
        clauses.base_ratio,
        clauses.per_award_cap,
        clauses.annual_cap,
        clauses.lifetime_cap,
        clauses.project_cap,
        clauses.is_once_only,
        clauses.once_only_scope,
        clauses.exclusive_group,
        clauses.uses_tiers,
        clauses.uses_lpr_interest,
        clauses.interest_day_count,
        tiers.tier_amount,
        lpr_in_force.lpr_effective_on,
        case
            when applications.loan_end_on > {{ dbt.dateadd('year', 5, 'applications.loan_start_on') }}
                then lpr_in_force.lpr_5y_pct
            else lpr_in_force.lpr_1y_pct
        end as lpr_pct
    from applications
    inner join clauses on applications.clause_code = clauses.clause_code
    left join tiers
        on applications.clause_code = tiers.clause_code
        and applications.tier = tiers.tier
    left join lpr_in_force
        on applications.application_id = lpr_in_force.application_id
        and lpr_in_force.recency = 1
),

basis_checked as (
    select
        *,
        {{ join_reasons([
            "case when base_kind is not null and base_amount is null then '缺少基数金额（base_amount）' end",
            "case when uses_tiers and tier is null then '缺少档次（tier）' end",
            "case when uses_tiers and tier is not null and tier_amount is null then '档次（tier）不在政策档次内' end",
            "case when (project_cap is not null or once_only_scope = 'project') and project_id is null then '缺少项目编号（project_id）' end",
            "case when uses_lpr_interest and (loan_principal is null or loan_start_on is null or loan_end_on is null) then '缺少贷款本金或起止日期' end",
            "case when uses_lpr_interest and loan_end_on <= loan_start_on then '贷款到期日不晚于起始日' end",
            "case when uses_lpr_interest and loan_start_on is not null and lpr_pct is null then '贷款起始日早于已录入的LPR' end",
        ]) }} as missing_basis_detail,
        {{ dbt.position(dbt.concat(["'|'", "beneficiary_type", "'|'"]), dbt.concat(["'|'", "allowed_beneficiary_types", "'|'"])) }} = 0
            as is_type_not_allowed
    from joined
),

limits as (
    select
        *,
        {{ per_award_limit('per_award_cap') }} as per_award_limit,
        {{ ratio_of_base_limit('base_ratio', 'base_amount') }} as ratio_limit,
        {{ tier_limit('uses_tiers', 'tier_amount') }} as tier_limit,
        case when uses_lpr_interest and missing_basis_detail is null
            then {{ lpr_interest_limit('loan_principal', 'lpr_pct', 'loan_start_on', 'loan_end_on', 'base_amount', 'interest_day_count') }}
        end as interest_limit
    from basis_checked
),

-- an earlier award uses a once-only award up, or excludes the other exclusive clauses, only when it was
-- itself eligible and worth more than 0
counted as {{ cte_hint('not materialized') }} (
    select
        *,
        is_monetary and not is_type_not_allowed and missing_basis_detail is null
            and coalesce(least(approved_amount, per_award_limit, ratio_limit, tier_limit, interest_limit), approved_amount) > 0
            as is_counted
    from limits
),

-- the windows run over the few columns they need (sorting the whole wide row cost most of this model's
-- time at 1M applications); the flags join back onto the awards
stacking_order as (
    select
        application_id,
        {{ is_repeat_of_once_only(
            'is_once_only',
            'is_counted',
            "clause_code, case when once_only_scope = 'project' then project_id else beneficiary_id end",
            'approved_on, application_id') }} as is_once_only_repeat,
        {{ is_excluded_by_earlier_clause(
            'exclusive_group', 'is_counted', 'beneficiary_id', 'approved_on, application_id') }} as is_excluded_by_stacking
    from (
        select
            application_id, beneficiary_id, clause_code, project_id, approved_on,
            is_once_only, once_only_scope, exclusive_group, is_counted
        from counted
    ) as award_order
),

once_only_checked as (
    select
        counted.*,
        stacking_order.is_once_only_repeat,
        stacking_order.is_excluded_by_stacking
    from counted
    inner join stacking_order on counted.application_id = stacking_order.application_id
),

reasons as (
    select
        *,
        case
            when not is_monetary then 'non_monetary'
            when is_type_not_allowed then 'beneficiary_type_not_allowed'
            when missing_basis_detail is not null then 'missing_basis'
            when is_once_only_repeat then 'once_only_repeat'
            when is_excluded_by_stacking then 'stacking_exclusive'
        end as ineligible_reason
    from once_only_checked
)

-- only what the running caps, the audit rules, daily loads and fct_awards read, and the flags behind
-- ineligible_reason: the application's other columns come to fct_awards from int_applications_resolved (at 10M
-- applications, writing every column of every award again here and in int_awards_capped was most of these
-- two models' time)
select
    -- ids and the scopes of the caps
    application_id,
    beneficiary_id,
    clause_code,
    project_id,
    exclusive_group,
    award_year,
    approved_on,
    -- what the audit rules report
    beneficiary_type,
    allowed_beneficiary_types,
    approving_bureau,
    approved_amount,
    -- running caps of the clause
    project_cap,
    annual_cap,
    lifetime_cap,
    -- static limits and eligibility
    lpr_effective_on,
    lpr_pct,
    missing_basis_detail,
    is_type_not_allowed,
    is_once_only_repeat,
    per_award_limit,
    ratio_limit,
    tier_limit,
    interest_limit,
    is_counted,
    is_excluded_by_stacking,
    ineligible_reason,
    -- null when the clause sets no static limit at all (only running caps, or none); cast because
    -- PostgreSQL's least() and case drop the scale of DECIMAL(18,2) operands
    cast(case
        when ineligible_reason is not null then 0
        else least(per_award_limit, ratio_limit, tier_limit, interest_limit)
    end as decimal(18, 2)) as static_limit,
    cast(case
        when ineligible_reason is not null then 0
        else least(approved_amount, coalesce(least(per_award_limit, ratio_limit, tier_limit, interest_limit), approved_amount))
    end as decimal(18, 2)) as amount_into_running_caps
from reasons
