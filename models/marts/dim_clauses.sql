-- One row per policy clause, with its measure, caps and responsible bureaus.
with clauses as (
    select * from {{ ref('policy_clauses') }}
),

measures as (
    select * from {{ ref('policy_measures') }}
),

responsible as (
    select
        measure_bureaus.measure_code,
        {{ dbt.listagg('bureaus.bureau_name_zh', "'、'", "order by bureaus.bureau_code") }} as responsible_bureaus
    from {{ ref('policy_measure_bureaus') }} as measure_bureaus
    inner join {{ ref('policy_bureaus') }} as bureaus
        on measure_bureaus.bureau_code = bureaus.bureau_code
    group by measure_bureaus.measure_code
)

select
    clauses.clause_code,
    clauses.measure_code,
    measures.measure_no,
    measures.measure_title_zh,
    measures.measure_title_en,
    clauses.clause_title_zh,
    clauses.clause_title_en,
    clauses.is_monetary,
    clauses.allowed_beneficiary_types,
    clauses.base_kind,
    clauses.base_name_zh,
    clauses.base_ratio,
    clauses.per_award_cap,
    clauses.annual_cap,
    clauses.lifetime_cap,
    clauses.project_cap,
    clauses.is_once_only,
    clauses.uses_tiers,
    clauses.uses_lpr_interest,
    responsible.responsible_bureaus,
    clauses.source_text_zh,
    clauses.interpretation_zh
from clauses
inner join measures on clauses.measure_code = measures.measure_code
left join responsible on clauses.measure_code = responsible.measure_code
