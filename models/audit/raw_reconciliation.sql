-- Per raw file: rows read = rows staged + rows rejected + exact duplicates collapsed, each counted
-- where it ends up (the staging table, audit.rejected_rows), not from the same flag.
-- A singular test (tests/reconciliation) requires unaccounted_rows = 0 for every file.
{%- set entities = [
    ('beneficiaries', 'stg_raw__beneficiaries', 'base_raw__beneficiaries'),
    ('applications', 'stg_raw__applications', 'base_raw__applications'),
    ('disbursements', 'stg_raw__disbursements', 'base_raw__disbursements'),
] %}
with files as (
    select * from {{ source('raw', 'files') }}
),

staged as (
    {%- for entity, staged_model, base_model in entities %}
    select source_file, count(*) as staged_rows
    from {{ ref(staged_model) }}
    group by source_file
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

collapsed as (
    {%- for entity, staged_model, base_model in entities %}
    select source_file, count(*) as collapsed_duplicate_rows
    from {{ ref(base_model) }}
    where row_disposition = 'collapsed_duplicate'
    group by source_file
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

rejected as (
    select source_file, count(*) as rejected_rows
    from {{ ref('rejected_rows') }}
    group by source_file
)

select
    files.source_file,
    files.entity,
    files.file_sha256,
    files.data_rows as raw_rows,
    coalesce(staged.staged_rows, 0) as staged_rows,
    coalesce(rejected.rejected_rows, 0) as rejected_rows,
    coalesce(collapsed.collapsed_duplicate_rows, 0) as collapsed_duplicate_rows,
    files.data_rows
        - coalesce(staged.staged_rows, 0)
        - coalesce(rejected.rejected_rows, 0)
        - coalesce(collapsed.collapsed_duplicate_rows, 0) as unaccounted_rows
from files
left join staged on files.source_file = staged.source_file
left join rejected on files.source_file = rejected.source_file
left join collapsed on files.source_file = collapsed.source_file
