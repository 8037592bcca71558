{#- Daily loads (build.py: the raw files only grew since the last build). The new raw lines carry the
    batch of this build; incremental models recompute only the keys those lines touch: a model deletes the
    rows of those keys (pre_hook delete_rows_to_recompute) and appends them recomputed, in the same order of
    work as a full build, so that the result is the same row for row (tests/python/test_daily_load.py).
    On a first build or --full-refresh, is_incremental() is false and every model builds everything. -#}

{#- The batch of this build (raw.batches). -#}
{% macro current_batch() -%}
    (select max(batch) from {{ source('raw', 'batches') }})
{%- endmacro %}

{#- The rows this build wrote in a base model (the rows of recomputed_keys(...)), or the lines it read in a raw
    table. The base models delete and insert by their key, so every row of a key a new line carries holds this
    build's batch, and only those do. Compared on `_batch`, DuckDB skips the row groups of earlier batches (10M
    applications: 0.09 s against 0.6 s for the lookup by key, on a warm cache). -#}
{% macro recomputed_in_this_build() -%}
    _batch = {{ current_batch() }}
{%- endmacro %}

{#- Before an incremental model appends its recomputed rows: delete the rows of the keys it recomputes, noted
    first in rewritten_keys(this) for its data tests (which read them as the model's columns: `keys_sql` names
    its columns as `key` does). -#}
{% macro delete_rows_to_recompute(key, keys_sql) -%}
    {%- if is_incremental() -%}
    {{ note_rewritten_keys(keys_sql) }};
    delete from {{ this }} where {{ key }} in (select * from {{ rewritten_keys(this) }})
    {%- endif -%}
{%- endmacro %}

{#- After a base model replaced the records of the identifiers a daily load touched (they all carry this
    build's `_batch`): note that batch in rewritten_keys(this) for its data tests. -#}
{% macro note_rewritten_batch() -%}
    {%- if is_incremental() -%}
    {{ note_rewritten_keys('select ' ~ current_batch() ~ ' as _batch') }}
    {%- endif -%}
{%- endmacro %}

{#- After a staging view is created: on a daily load (its base model noted the batch it rewrote), note the keys of
    the rows the load rewrote in the base model, which are the view's rows the load may have changed, so that the
    view's data tests read those (get_where_subquery) as an incremental model's do. -#}
{% macro note_rewritten_keys_of_view(base_model, key) -%}
    {%- if execute and rewritten_key_columns(ref(base_model)) -%}
    {{ note_rewritten_keys(recomputed_keys(base_model, key)) }}
    {%- endif -%}
{%- endmacro %}

{#- Statements that write `keys_sql` into rewritten_keys(this), and tell dbt's relation cache of that table. -#}
{% macro note_rewritten_keys(keys_sql) -%}
    {%- set rewritten = rewritten_keys(this) -%}
    {%- do adapter.cache_added(rewritten) -%}
    create or replace table {{ rewritten }} as {{ keys_sql }}
{%- endmacro %}

{#- The keys of the rows a daily load rewrote in an incremental model (its key columns, or `_batch` for a
    base model). build.py makes this schema before dbt runs a daily load and drops it before the warehouse is
    swapped in, so it only exists during a daily load's build. The hooks that create these tables tell dbt's
    relation cache, which then answers for the whole schema. -#}
{% macro rewritten_keys(relation) -%}
    {{ return(api.Relation.create(database=relation.database, schema='daily_load_keys', identifier=relation.identifier, type='table')) }}
{%- endmacro %}

{#- The data tests of a daily load read, in a model it extended, only the rows it rewrote (and rows without
    a key), and what those rows could collide with: every other row is as the last build left it and passed
    the same tests with the same code (a daily load needs the same code fingerprint). Tests of one row at a
    time read the rewritten rows; uniqueness tests read every row holding a value some rewritten row holds
    (the rewritten rows themselves when the tested columns include the key), and a primary key's test also the
    rewritten rows (one without a key holds no value another row could hold). Other tests (relationships,
    whose parents may have changed, and the singular tests) read everything. On a full build no model has
    rewritten keys, and every test reads whole tables. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set conditions = [where] if where else [] -%}
    {%- set test = model.get('test_metadata') or {} -%}
    {%- set uniqueness = test.get('name') in ('unique', 'unique_combination', 'primary_key') -%}
    {%- set read_in_part = uniqueness or test.get('name') in ('not_null', 'accepted_values', 'expression_is_true') -%}
    {%- set keys = rewritten_key_columns(relation) if execute and read_in_part else [] -%}
    {%- if keys -%}
        {%- set tested = test.get('kwargs', {}).get('columns') or [test.get('kwargs', {}).get('column_name')] -%}
        {%- set either = ['(' ~ keys | join(', ') ~ ') in (select * from ' ~ rewritten_keys(relation) ~ ')'] -%}
        {%- for key in keys -%}{%- do either.append(key ~ ' is null') -%}{%- endfor -%}
        {%- set rewritten_rows = '(' ~ either | join(' or ') ~ ')' -%}
        {%- if not uniqueness or keys | reject('in', tested) | list | length == 0 -%}
            {%- do conditions.append(rewritten_rows) -%}
        {%- else -%}
            {#- one row value against row values: DuckDB compares a null inside them as a value, so a combination
                holding a null collides as the test's group by counts it (tests/python/test_daily_load.py) -#}
            {%- set values = '(' ~ tested | join(', ') ~ ')' -%}
            {%- set colliding = values ~ ' in (select ' ~ values ~ ' from ' ~ relation ~ ' where ' ~ rewritten_rows ~ ')' -%}
            {%- do conditions.append('(' ~ colliding ~ ' or ' ~ rewritten_rows ~ ')' if test.get('name') == 'primary_key' else colliding) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- The key columns of rewritten_keys(relation); none when this build did not extend `relation` (a full build,
    another engine, a model rebuilt whole). -#}
{% macro rewritten_key_columns(relation) -%}
    {{ return(adapter.dispatch('rewritten_key_columns', 'subsidy_warehouse')(relation)) }}
{%- endmacro %}

{% macro default__rewritten_key_columns(relation) -%}
    {{ return([]) }}
{%- endmacro %}

{#- Daily loads are DuckDB's (engines.py builds PostgreSQL and Spark in full). -#}
{% macro duckdb__rewritten_key_columns(relation) -%}
    {%- set rewritten = rewritten_keys(relation) -%}
    {%- if adapter.get_relation(rewritten.database, rewritten.schema, rewritten.identifier) is none -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(rewritten) | map(attribute='name') | list) }}
{%- endmacro %}

{#- Keys whose staging rows this build recomputed (every record of an identifier a new line carries). -#}
{% macro recomputed_keys(base_model, key) -%}
    select {{ key }} from {{ ref(base_model) }} where {{ recomputed_in_this_build() }} and {{ key }} is not null
{%- endmacro %}

{#- The ids of audit.rejected_rows a daily load writes again: every record a base model recomputed (rejected
    before or now, or neither) and the new unreadable records (the tests of the model read them). -#}
{% macro rejected_rows_to_recompute() -%}
    {%- for relation in [ref('base_raw__beneficiaries'), ref('base_raw__applications'), ref('base_raw__disbursements')] %}
    select {{ rejected_row_id('source_file', 'source_line') }} as rejected_row_id from {{ relation }}
    where {{ recomputed_in_this_build() }}
    union all
    {%- endfor %}
    select {{ rejected_row_id('source_file', 'first_line') }} as rejected_row_id from {{ source('raw', 'unreadable_rows') }}
    where {{ recomputed_in_this_build() }}
{%- endmacro %}

{#- The id of a row of audit.rejected_rows: file#line of the record's first line. -#}
{% macro rejected_row_id(source_file, first_line) -%}
    {{ dbt.concat([source_file, "'#'", dbt.cast(first_line, api.Column.translate_type('string'))]) }}
{%- endmacro %}

{#- The applications a daily load resolves again (int_applications_to_resolve: computed once per load). -#}
{% macro applications_to_resolve() -%}
    select application_id from {{ ref('int_applications_to_resolve') }}
{%- endmacro %}

{#- Applications whose payments change: those any version of a recomputed disbursement names. -#}
{% macro applications_with_new_payments() -%}
    select application_id from {{ ref('base_raw__disbursements') }}
    where {{ recomputed_in_this_build() }} and application_id is not null
{%- endmacro %}

{#- The disbursements a daily load resolves again (int_disbursements_to_resolve: computed once per load). -#}
{% macro disbursements_to_resolve() -%}
    select disbursement_id from {{ ref('int_disbursements_to_resolve') }}
{%- endmacro %}

{#- The raw records a daily load recomputes in a base model: the new ones, and every earlier one whose key
    (`key_column` of the model) a new one carries. `staged_key` computes that key from a raw record as the model
    does; it runs on the new records only, and the earlier ones are found by the key the model stored for them
    (with their file and first line): 10M applications, 0.33 s against 2.9 s for a coarse key of every raw
    record (two regular expressions each). A record without a key (an empty identifier) is rejected on its own
    and never read again: the model deletes by a null key in vain, and reading it again would hold it twice. -#}
{% macro records_to_recompute(source_table, key_column, staged_key) -%}
    {%- if is_incremental() %}
    where {{ recomputed_in_this_build() }}
        or (_source_file, _first_line) in (
            select source_file, source_line from {{ this }}
            where {{ key_column }} in (
                select {{ staged_key }} from {{ source('raw', source_table) }} where {{ recomputed_in_this_build() }}
            )
        )
    {%- endif %}
{%- endmacro %}

{#- On a daily load, model `name` as the last build left it: its reader runs before that model replaces its rows
    (the model names the reader in a depends_on comment). None on a full build, which recomputes everything. -#}
{% macro before_this_load(name) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set node = graph.nodes['model.' ~ project_name ~ '.' ~ name] -%}
    {%- set previous = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
    {{ return(none if flags.FULL_REFRESH else previous) }}
{%- endmacro %}

{#- Approved awards whose caps a daily load recomputes (model int_awards_to_recompute). -#}
{% macro awards_to_recompute() -%}
    select application_id from {{ ref('int_awards_to_recompute') }}
{%- endmacro %}

{#- The (beneficiary, clause) groups of agg_cap_utilization a daily load recomputes (int_cap_groups_to_recompute). -#}
{% macro cap_groups_to_recompute() -%}
    select beneficiary_id, clause_code from {{ ref('int_cap_groups_to_recompute') }}
{%- endmacro %}

{#- The beneficiaries whose rows of agg_disbursements_by_company_year a daily load recomputes (int_payees_to_recompute). -#}
{% macro payees_to_recompute() -%}
    select beneficiary_id from {{ ref('int_payees_to_recompute') }}
{%- endmacro %}
