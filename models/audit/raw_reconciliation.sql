-- Per raw file, nothing lost, counted twice:
--   records: read = staged + rejected + collapsed exact duplicates;
--   lines:   physical lines (counted from the bytes, before any CSV parsing) = header + blank lines +
--            the lines of every staged, rejected and collapsed record (first to last line).
-- Each part is counted where it ends up (the staging tables, audit.rejected_rows), not from one flag.
-- A singular test (tests/reconciliation) requires both unaccounted counts to be 0 for every file.
{%- set entities = [
    ('stg_raw__beneficiaries', 'base_raw__beneficiaries'),
    ('stg_raw__applications', 'base_raw__applications'),
    ('stg_raw__disbursements', 'base_raw__disbursements'),
] %}
with files as (
    select * from {{ source('raw', 'files') }}
),

staged as (
    {%- for staged_model, base_model in entities %}
    select source_file, count(*) as records, sum(source_last_line - source_line + 1) as lines
    from {{ ref(staged_model) }}
    group by source_file
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

collapsed as (
    {%- for staged_model, base_model in entities %}
    select source_file, count(*) as records, sum(source_last_line - source_line + 1) as lines
    from {{ ref(base_model) }}
    where row_disposition = 'collapsed_duplicate'
    group by source_file
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

rejected as (
    select source_file, count(*) as records, sum(source_last_line - source_line + 1) as lines
    from {{ ref('rejected_rows') }}
    group by source_file
),

counted as (
    select
        files.source_file,
        files.entity,
        files.file_sha256,
        files.data_rows as raw_rows,
        coalesce(staged.records, 0) as staged_rows,
        coalesce(rejected.records, 0) as rejected_rows,
        coalesce(collapsed.records, 0) as collapsed_duplicate_rows,
        files.physical_lines,
        files.header_lines,
        files.blank_lines,
        cast(coalesce(staged.lines, 0) as bigint) as staged_lines,
        cast(coalesce(rejected.lines, 0) as bigint) as rejected_lines,
        cast(coalesce(collapsed.lines, 0) as bigint) as collapsed_duplicate_lines
    from files
    left join staged on files.source_file = staged.source_file
    left join rejected on files.source_file = rejected.source_file
    left join collapsed on files.source_file = collapsed.source_file
)

select
    source_file,
    entity,
    file_sha256,
    raw_rows,
    staged_rows,
    rejected_rows,
    collapsed_duplicate_rows,
    raw_rows - staged_rows - rejected_rows - collapsed_duplicate_rows as unaccounted_rows,
    physical_lines,
    header_lines,
    blank_lines,
    staged_lines,
    rejected_lines,
    collapsed_duplicate_lines,
    physical_lines - header_lines - blank_lines - staged_lines - rejected_lines - collapsed_duplicate_lines
        as unaccounted_lines
from counted
