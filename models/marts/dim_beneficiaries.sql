-- One row per beneficiary. Personal identifiers appear only pseudonymised (beneficiary_id) or masked
-- (beneficiary_id_display); companies keep their public USCC.
with beneficiaries as (
    select * from {{ ref('stg_raw__beneficiaries') }}
)

select
    beneficiary_id,
    beneficiary_id_display,
    beneficiary_name,
    beneficiary_type,
    case beneficiary_type
        when 'enterprise' then '企业'
        when 'institution' then '机构'
        when 'investor' then '投资机构'
        when 'person' then '个人'
    end as beneficiary_type_zh,
    id_type,
    is_id_valid,
    registered_on,
    district
from beneficiaries
