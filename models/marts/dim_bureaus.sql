-- One row per bureau that approves or pays, with the measures it is responsible for.
with bureaus as (
    select * from {{ ref('policy_bureaus') }}
),

responsibilities as (
    select
        bureau_code,
        {{ dbt.listagg('measure_code', "'、'", "order by measure_code") }} as responsible_measures,
        count(*) as responsible_measure_count
    from {{ ref('policy_measure_bureaus') }}
    group by bureau_code
)

select
    bureaus.bureau_code,
    bureaus.bureau_name_zh,
    bureaus.bureau_name_en,
    responsibilities.responsible_measures,
    coalesce(responsibilities.responsible_measure_count, 0) as responsible_measure_count
from bureaus
left join responsibilities on bureaus.bureau_code = responsibilities.bureau_code
