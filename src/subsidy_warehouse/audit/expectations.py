"""Great Expectations suites, kept as code: what expectations say best about the warehouse.

Each suite reads one frame from the warehouse (pandas, through DuckDB; GX's SQL path returns empty metrics on
DuckDB) and states expectations about it: contracted column types, required values, value sets and ranges,
identifier formats, raw-row reconciliation and sums that must agree between facts and rollups. Money is read
as integer cents so that sums are exact. Every expectation carries the catalogue rule it counts against in
its `meta`. Value sets come from the policy seeds in the repository, not from the warehouse being audited.

What keeps this step fast at 1M applications (each measured; the checks and findings are the same as without):
frames come from DuckDB as Arrow (strings stay Arrow strings instead of becoming Python objects), hold only the
columns their expectations read, and keep integers 64-bit (GX checks a range on any other integer type one
Python call per value); GX's fingerprint of every batch (a hash of each row, for batch markers this audit never
reads) is switched off; each suite runs with the BASIC result format and only its failed expectations run again
with COMPLETE to name their failing records, since nearly all pass.

What keeps its memory bounded at 10M applications: a frame is read and validated in chunks of CHUNK_ROWS rows
(SUBSIDY_AUDIT_CHUNK_ROWS), never whole, and the results of the chunks are merged into what one validation of
the whole frame gives (`Merged`; tests/python/test_audit_chunks.py compares the two). That holds for the
expectations that judge each row on its own (column and column-pair map expectations): their unexpected rows
add up, in frame order. The others are not chunk-additive and are computed over the whole table:
- uniqueness (ExpectColumnValuesToBeUnique) in DuckDB SQL over the frame's table (`unique_in_sql`): the rows
  whose value occurs more than once, counted and listed in the table's order, as GX lists them;
- any other expectation (here the sums of ExpectColumnSumToBeBetween) by GX on a frame of only the columns it
  reads, whole (one integer column: 80 MB at 10M rows).
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import yaml

from ..paths import project_dir
from .chunks import chunk_rows
from .deferred_imports import defer_imports
from .fingerprint import quote
from .model import Check, CheckStatus, Finding
from .store import FindingStore

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
defer_imports("scipy.stats", "altair")  # for an expectation no suite here runs (deferred_imports.py)

import great_expectations as gx  # noqa: E402  (after the environment that keeps it quiet and offline)
from great_expectations import expectations as gxe  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.execution_engine import pandas_execution_engine  # noqa: E402
from great_expectations.expectations.expectation import (  # noqa: E402
    ColumnMapExpectation,
    ColumnPairMapExpectation,
)

MAX_FAILING_RECORDS = 1000
PSEUDONYM = r"^P[0-9a-f]{15}$"
# a resident ID number written out: 6-digit area, birth date, sequence, check character
# (non-capturing groups: pandas warns about capturing groups in str.contains)
RESIDENT_ID = r"^\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]$"
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the model YAML parses 10× faster
NULLABLE_INTEGERS = {
    getattr(pa, f"{sign}int{bits}")(): pd.api.types.pandas_dtype(f"{sign.upper()}Int{bits}")
    for sign in ("", "u")
    for bits in (8, 16, 32, 64)
}
ROLLUPS = ("agg_disbursements_by_company_year", "agg_disbursements_by_bureau_year", "agg_disbursements_by_clause_year")


def to_cents(column: str) -> str:
    return f"cast(round({column} * 100) as bigint)"


def cents(column: str) -> str:
    return f"{to_cents(column)} as {column.removesuffix('_amount')}_cents"


@dataclass
class FrameSuite:
    """A frame of the warehouse (its SQL, or `small_frame` for one built in Python) and the expectations on it,
    each as (rule code, expectation). `table`: the one table whose rows the frame's SQL projects, row for row
    in the table's order (uniqueness is checked there in SQL)."""

    name: str
    sql: str
    key: str
    expectations: Callable[[], list[tuple[str, gxe.Expectation]]]
    table: str | None = None
    small_frame: Callable[[duckdb.DuckDBPyConnection], pd.DataFrame] | None = field(default=None, repr=False)


def seed_values(seed: str, column: str) -> list[str]:
    with (project_dir() / "seeds" / "policy" / f"{seed}.csv").open(encoding="utf-8", newline="") as handle:
        return sorted({row[column] for row in csv.DictReader(handle)})


def contracted_columns() -> pd.DataFrame:
    """Every column a model contract names (models/**/*.yml data_type), with its schema from the folder."""
    rows = []
    for yml in sorted((project_dir() / "models").rglob("*.yml")):
        schema = yml.relative_to(project_dir() / "models").parts[0]
        for model in (yaml.load(yml.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}).get("models", []):
            if not (model.get("config") or {}).get("contract", {}).get("enforced"):
                continue
            for column in model.get("columns", []):
                rows.append(
                    {
                        "table_column": f"{schema}.{model['name']}.{column['name']}",
                        "contract_type": column["data_type"].replace(" ", "").upper(),
                    }
                )
    return pd.DataFrame(rows)


def column_types_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    actual = con.execute(
        "select table_schema || '.' || table_name || '.' || column_name as table_column, "
        "replace(upper(data_type), ' ', '') as actual_type from information_schema.columns"
    ).df()
    return contracted_columns().merge(actual, on="table_column", how="left")


def frame_suites(con: duckdb.DuckDBPyConnection) -> list[FrameSuite]:
    measures = seed_values("policy_measures", "measure_code")
    bureaus = seed_values("policy_bureaus", "bureau_name_zh")
    disbursed = con.execute(
        f"select count(*), coalesce(sum({to_cents('signed_amount')}), 0) from marts.fct_disbursements"
    ).fetchone()
    approved_cents = con.execute(
        f"select coalesce(sum({to_cents('approved_amount')}), 0) from marts.fct_awards"
    ).fetchone()[0]

    def awards() -> list[tuple[str, gxe.Expectation]]:
        required = [
            "application_id",
            "beneficiary_id",
            "clause_code",
            "measure_code",
            "approving_bureau",
            "award_year",
            "approved_cents",
            "within_cap_cents",
            "over_cap_cents",
        ]
        return [
            *[("value_missing", gxe.ExpectColumnValuesToNotBeNull(column=c)) for c in required],
            ("key_not_unique", gxe.ExpectColumnValuesToBeUnique(column="application_id")),
            ("invalid_value", gxe.ExpectColumnValuesToBeInSet(column="measure_code", value_set=measures)),
            ("invalid_value", gxe.ExpectColumnValuesToBeInSet(column="approving_bureau", value_set=bureaus)),
            ("invalid_value", gxe.ExpectColumnValuesToBeBetween(column="award_year", min_value=2000, max_value=2100)),
            ("invalid_value", gxe.ExpectColumnValuesToBeBetween(column="approved_cents", min_value=0)),
            ("invalid_value", gxe.ExpectColumnValuesToBeBetween(column="over_cap_cents", min_value=0)),
            (
                "invalid_value",
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="approved_cents", column_B="within_cap_cents", or_equal=True
                ),
            ),
            ("personal_id_exposed", gxe.ExpectColumnValuesToNotMatchRegex(column="beneficiary_id", regex=RESIDENT_ID)),
        ]

    def disbursements() -> list[tuple[str, gxe.Expectation]]:
        required = ["disbursement_id", "application_id", "paying_bureau", "paid_on", "paid_year", "signed_cents"]
        return [
            *[("value_missing", gxe.ExpectColumnValuesToNotBeNull(column=c)) for c in required],
            ("key_not_unique", gxe.ExpectColumnValuesToBeUnique(column="disbursement_id")),
            ("invalid_value", gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=["payment", "clawback"])),
            ("invalid_value", gxe.ExpectColumnValuesToBeInSet(column="paying_bureau", value_set=bureaus)),
            ("invalid_value", gxe.ExpectColumnValuesToBeBetween(column="paid_year", min_value=2000, max_value=2100)),
            ("personal_id_exposed", gxe.ExpectColumnValuesToNotMatchRegex(column="beneficiary_id", regex=RESIDENT_ID)),
        ]

    def persons() -> list[tuple[str, gxe.Expectation]]:
        return [
            ("personal_id_exposed", gxe.ExpectColumnValuesToMatchRegex(column="beneficiary_id", regex=PSEUDONYM)),
            (
                "personal_id_exposed",
                gxe.ExpectColumnValuesToNotMatchRegex(column="beneficiary_id_display", regex=RESIDENT_ID),
            ),
        ]

    def reconciliation() -> list[tuple[str, gxe.Expectation]]:
        return [
            ("raw_not_reconciled", gxe.ExpectColumnPairValuesToBeEqual(column_A="raw_rows", column_B="accounted_rows")),
            (
                "raw_not_reconciled",
                gxe.ExpectColumnPairValuesToBeEqual(column_A="physical_lines", column_B="accounted_lines"),
            ),
        ]

    def rollup() -> list[tuple[str, gxe.Expectation]]:
        return [
            (
                "rollup_mismatch",
                gxe.ExpectColumnSumToBeBetween(column="net_paid_cents", min_value=disbursed[1], max_value=disbursed[1]),
            ),
            (
                "rollup_mismatch",
                gxe.ExpectColumnSumToBeBetween(
                    column="disbursement_count", min_value=disbursed[0], max_value=disbursed[0]
                ),
            ),
        ]

    def cap_utilization() -> list[tuple[str, gxe.Expectation]]:
        return [
            (
                "rollup_mismatch",
                gxe.ExpectColumnSumToBeBetween(
                    column="approved_cents", min_value=approved_cents, max_value=approved_cents
                ),
            )
        ]

    def column_types() -> list[tuple[str, gxe.Expectation]]:
        return [
            ("column_type_mismatch", gxe.ExpectColumnValuesToNotBeNull(column="actual_type")),
            (
                "column_type_mismatch",
                gxe.ExpectColumnPairValuesToBeEqual(
                    column_A="contract_type", column_B="actual_type", ignore_row_if="either_value_is_missing"
                ),
            ),
        ]

    return [
        FrameSuite("contract_column_types", "", "table_column", column_types, small_frame=column_types_frame),
        FrameSuite(
            "marts.fct_awards",
            "select application_id, beneficiary_id, clause_code, measure_code, approving_bureau, "
            "cast(award_year as bigint) as award_year, "
            f"{cents('approved_amount')}, {cents('within_cap_amount')}, {cents('over_cap_amount')} "
            "from marts.fct_awards",
            "application_id",
            awards,
            table="marts.fct_awards",
        ),
        FrameSuite(
            "marts.fct_disbursements",
            "select disbursement_id, application_id, beneficiary_id, kind, paying_bureau, "
            "cast(paid_on as timestamp) as paid_on, cast(paid_year as bigint) as paid_year, "
            f"{cents('signed_amount')} from marts.fct_disbursements",
            "disbursement_id",
            disbursements,
            table="marts.fct_disbursements",
        ),
        FrameSuite(
            "marts.dim_beneficiaries (persons)",
            "select beneficiary_id, beneficiary_id_display from marts.dim_beneficiaries "
            "where id_type in ('resident_id', 'passport')",
            "beneficiary_id",
            persons,
        ),
        FrameSuite(
            "raw.files ↔ staging + audit.rejected_rows",
            # counted from where each record ends up, independently of audit.raw_reconciliation: records, and
            # the physical lines of the file (counted from its bytes) against the lines those records span
            # (a double, as .df() read the sum's HUGEINT: failing records show it as 5311.0)
            f"""
            with ended_up as (
                {" union all ".join(
                    f"select source_file, source_line, source_last_line from staging.{model}"
                    + ("" if model.startswith("stg_") else " where row_disposition = 'collapsed_duplicate'")
                    for model in (
                        "stg_raw__beneficiaries", "stg_raw__applications", "stg_raw__disbursements",
                        "base_raw__beneficiaries", "base_raw__applications", "base_raw__disbursements",
                    )
                )}
                union all select source_file, source_line, source_last_line from audit.rejected_rows
            ), per_file as (
                select source_file, count(*) as records, cast(sum(source_last_line - source_line + 1) as double) as lines
                from ended_up group by source_file
            )
            select files.source_file, files.data_rows as raw_rows, coalesce(per_file.records, 0) as accounted_rows,
                files.physical_lines,
                files.header_lines + files.blank_lines + coalesce(per_file.lines, 0) as accounted_lines
            from raw.files left join per_file on files.source_file = per_file.source_file
            """,
            "source_file",
            reconciliation,
        ),
        *[
            FrameSuite(
                f"marts.{name}",
                f"select paid_year, disbursement_count, {cents('net_paid_amount')} from marts.{name}",
                "paid_year",
                rollup,
            )
            for name in ROLLUPS
        ],
        FrameSuite(
            "marts.agg_cap_utilization",
            f"select beneficiary_id, clause_code, award_year, {cents('approved_amount')} from marts.agg_cap_utilization",
            "beneficiary_id",
            cap_utilization,
        ),
    ]


def read_frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """A query's result as pandas through Arrow: strings stay Arrow-backed (DuckDB's .df() makes Python
    objects that pandas then converts back, 4× slower at 1M). Decimals would become Python objects here:
    frames read money as cents and dates as timestamps."""
    return arrow_frame(con.sql(sql).to_arrow_table())  # a relation's Arrow: no extra copy (DuckDB's advice)


def arrow_frame(table: pa.Table, with_nulls: set[str] | None = None) -> pd.DataFrame:
    """`table` as pandas, its columns typed as DuckDB's .df() types them: an integer column with a null is a
    nullable integer (NA, shown "<NA>"), not a float with NaN. When `table` is a chunk of a larger frame, whether
    a column has a null is decided over the whole frame (`with_nulls`), so that every chunk has its types."""
    frame = table.to_pandas()
    for name, column in zip(table.column_names, table.columns, strict=True):
        nulls = column.null_count > 0 if with_nulls is None else name in with_nulls
        if pa.types.is_integer(column.type) and nulls:
            frame[name] = column.to_pandas(types_mapper=NULLABLE_INTEGERS.get)
        elif pa.types.is_boolean(column.type) and nulls and not column.null_count:
            frame[name] = frame[name].astype(object)  # as Arrow converts a boolean column with nulls
    return frame


def frame_chunks(con: duckdb.DuckDBPyConnection, sql: str, rows: int) -> Iterator[pd.DataFrame]:
    """The frame of `sql` in chunks of `rows` rows, in its order, each typed as in the whole frame; at least one
    chunk (an empty frame is one empty chunk)."""
    reader = con.sql(sql).to_arrow_reader(rows)
    batches = iter(reader)
    first = next(batches, None)
    if first is None:
        yield arrow_frame(reader.schema.empty_table())
        return
    second = next(batches, None)
    if second is None:  # the whole frame
        yield arrow_frame(pa.Table.from_batches([first]))
        return
    with_nulls = columns_with_nulls(con, sql, reader.schema)
    for batch in itertools.chain([first, second], batches):
        yield arrow_frame(pa.Table.from_batches([batch]), with_nulls)


def columns_with_nulls(con: duckdb.DuckDBPyConnection, sql: str, schema: pa.Schema) -> set[str]:
    """The integer and boolean columns of the frame of `sql` that hold a null somewhere (one scan, on a cursor
    of its own while `con` streams the frame)."""
    typed = [f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_boolean(f.type)]
    if not typed:
        return set()
    with con.cursor() as cursor:
        counts = cursor.execute(
            f"select {', '.join(f'count(*) - count({quote(name)})' for name in typed)} from ({sql}) as frame"
        ).fetchone()
    return {name for name, nulls in zip(typed, counts, strict=True) if nulls}


def describe(expectation: gxe.Expectation) -> str:
    config = expectation.configuration.to_json_dict()
    return json.dumps({"type": config["type"], **config["kwargs"]}, ensure_ascii=False, sort_keys=True, default=str)


def failing_records(suite: FrameSuite, rule_code: str, name: str, result: dict) -> list[Finding]:
    rows = result.get("unexpected_index_list") or []
    if rows and isinstance(rows[0], dict):
        return [
            Finding(
                rule_code=rule_code,
                check=name,
                record_type="table",
                record_id=f"{suite.name}:{row.get(suite.key)}",
                detail=json.dumps(row, ensure_ascii=False, default=str, sort_keys=True),
            )
            for row in rows[:MAX_FAILING_RECORDS]
        ]
    observed = result.get("observed_value")
    return [
        Finding(
            rule_code=rule_code, check=name, record_type="table", record_id=suite.name, detail=f"observed {observed}"
        )
    ]


@contextmanager
def without_batch_fingerprints() -> Iterator[None]:
    """GX hashes every row of a pandas batch smaller than HASH_THRESHOLD bytes for its batch markers (6 s of
    hashing at 1M applications); nothing here reads them, so no batch is hashed meanwhile."""
    threshold = pandas_execution_engine.HASH_THRESHOLD
    pandas_execution_engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        pandas_execution_engine.HASH_THRESHOLD = threshold


def validate(batch, gx_suite: gx.ExpectationSuite, key: str, records_wanted: set[str] | None = None) -> dict:
    """The result of each expectation of `gx_suite` on `batch`, by expectation id: the whole suite with the
    BASIC result format (counts), then each expectation that did not pass again alone with COMPLETE and the
    `key` column of its failing rows (only those in `records_wanted`, when given)."""
    validation = batch.validate(gx_suite, result_format="BASIC")
    results = {result.expectation_config.id: result for result in validation.results}
    failing_records_format = {"result_format": "COMPLETE", "unexpected_index_column_names": [key]}
    for expectation in gx_suite.expectations:
        if records_wanted is not None and expectation.id not in records_wanted:
            continue
        if not results[expectation.id].success:
            results[expectation.id] = batch.validate(expectation, result_format=failing_records_format)
    return results


def raised(exception_info: dict | None) -> bool:
    return bool(exception_info and exception_info.get("raised_exception"))


@dataclass
class Merged:
    """One expectation's result over every chunk of a frame, as one validation of the whole frame gives it (the
    parts the checks read): success when every chunk passes, unexpected rows counted over all chunks and the
    first MAX_FAILING_RECORDS of them named in frame order."""

    success: bool = True
    result: dict[str, Any] = field(default_factory=dict)
    exception_info: dict[str, Any] | None = None

    def add(self, chunk: Any) -> None:
        self.success = self.success and bool(chunk.success)
        if self.exception_info is None or (raised(chunk.exception_info) and not raised(self.exception_info)):
            self.exception_info = chunk.exception_info
        details = chunk.result or {}
        if "unexpected_count" in details:
            self.result["unexpected_count"] = self.result.get("unexpected_count", 0) + details["unexpected_count"]
        if "observed_value" in details:  # not a map expectation's: only ever one chunk
            self.result["observed_value"] = details["observed_value"]
        if details.get("unexpected_index_list"):
            kept = self.result.setdefault("unexpected_index_list", [])
            kept.extend(details["unexpected_index_list"][: MAX_FAILING_RECORDS - len(kept)])

    @property
    def records_full(self) -> bool:
        return len(self.result.get("unexpected_index_list", ())) >= MAX_FAILING_RECORDS


def columns_read(expectation: gxe.Expectation) -> list[str]:
    kwargs = expectation.configuration.kwargs
    return [kwargs[name] for name in ("column", "column_A", "column_B") if kwargs.get(name)] + list(
        kwargs.get("column_list") or []
    )


def unique_in_sql(con: duckdb.DuckDBPyConnection, table: str, column: str, key: str) -> Merged:
    """ExpectColumnValuesToBeUnique over a whole table, in DuckDB (uniqueness is not chunk-additive): as GX on
    the whole frame, the unexpected rows are every row whose (non-null) value occurs more than once, and the
    first MAX_FAILING_RECORDS of them are named in the table's order (rowid: the order its frame is read in)."""
    duplicated = (
        f"{column} in (select {column} from {table} where {column} is not null group by {column} having count(*) > 1)"
    )
    [(count,)] = con.execute(f"select count(*) from {table} where {duplicated}").fetchall()
    merged = Merged(
        success=count == 0,
        result={"unexpected_count": count},
        exception_info={"raised_exception": False, "exception_traceback": None, "exception_message": None},
    )
    if count:
        names = list(dict.fromkeys([column, key]))
        rows = con.execute(
            f"select {', '.join(names)} from {table} where {duplicated} order by rowid limit {MAX_FAILING_RECORDS}"
        ).fetchall()
        merged.result["unexpected_index_list"] = [dict(zip(names, row, strict=True)) for row in rows]
    return merged


def is_text_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return str(con.sql(f"select {column} from {table} limit 0").types[0]) == "VARCHAR"


def frame_batches(source: Any, name: str) -> Callable[[pd.DataFrame], Any]:
    """A pandas data asset `name` of the GX data source `source`: a function from a frame to its batch."""
    definition = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
    return lambda frame: definition.get_batch(batch_parameters={"dataframe": frame})


def suite_results(
    con: duckdb.DuckDBPyConnection, context: Any, source: Any, index: int, suite: FrameSuite, expectations: list
) -> list[Any]:
    """The result of each of `expectations` (in their order) on the frame of `suite`: the row-wise ones
    validated chunk by chunk and merged, uniqueness in SQL, any other on a whole frame of only its columns."""
    in_sql, row_wise, whole = [], [], []
    for position, expectation in enumerate(expectations):
        if isinstance(expectation, gxe.ExpectColumnValuesToBeUnique):
            column = expectation.configuration.kwargs["column"]
            if suite.table and is_text_column(con, suite.table, column):
                in_sql.append(position)
            else:
                whole.append(position)
        elif isinstance(expectation, ColumnMapExpectation | ColumnPairMapExpectation):
            row_wise.append(position)
        else:
            whole.append(position)
    results: list[Any] = [None] * len(expectations)
    batch_of = frame_batches(source, f"frame_{index}")
    if row_wise:
        gx_suite = context.suites.add(gx.ExpectationSuite(name=f"suite_{index}"))
        for position in row_wise:
            gx_suite.add_expectation(expectations[position])  # gives the expectation the id its result carries
        merged = {position: Merged() for position in row_wise}
        chunks = [suite.small_frame(con)] if suite.small_frame else frame_chunks(con, suite.sql, chunk_rows())
        for frame in chunks:
            batch = batch_of(frame)
            wanted = {expectations[p].id for p in row_wise if not merged[p].records_full}
            by_id = validate(batch, gx_suite, suite.key, wanted)
            for position in row_wise:
                merged[position].add(by_id[expectations[position].id])
        for position in row_wise:
            results[position] = merged[position]
    if whole:
        gx_suite = context.suites.add(gx.ExpectationSuite(name=f"suite_{index}_whole"))
        for position in whole:
            gx_suite.add_expectation(expectations[position])
        if suite.small_frame:
            frame = suite.small_frame(con)
        else:
            columns = [c for p in whole for c in columns_read(expectations[p])]
            if any(isinstance(expectations[p], ColumnMapExpectation) for p in whole):
                columns.append(suite.key)  # a map expectation names its failing rows by key
            frame = read_frame(con, f"select {', '.join(dict.fromkeys(columns))} from ({suite.sql}) as frame")
        batch = batch_of(frame)
        by_id = validate(batch, gx_suite, suite.key)
        for position in whole:
            results[position] = by_id[expectations[position].id]
    for position in in_sql:
        column = expectations[position].configuration.kwargs["column"]
        results[position] = unique_in_sql(con, suite.table, column, suite.key)
    return results


def expectation_checks(con: duckdb.DuckDBPyConnection, store: FindingStore) -> list[Check]:
    """Validate every suite; one Check per expectation, and its failing records into `store`."""
    with without_batch_fingerprints():
        return validated_checks(con, store)


def validated_checks(con: duckdb.DuckDBPyConnection, store: FindingStore) -> list[Check]:
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.ERROR)  # "temporary directory"
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("warehouse")
    checks: list[Check] = []
    for index, suite in enumerate(frame_suites(con)):
        rules = suite.expectations()
        results = suite_results(con, context, source, index, suite, [expectation for _, expectation in rules])
        for (rule_code, expectation), result in zip(rules, results, strict=True):
            kwargs = expectation.configuration.kwargs
            column = kwargs.get("column") or f"{kwargs.get('column_A')}, {kwargs.get('column_B')}"
            name = f"{expectation.expectation_type}({suite.name}.{column})"
            details = result.result or {}
            if raised(result.exception_info):
                status, count = CheckStatus.error, 0
                message = str(result.exception_info.get("exception_message", ""))[:300]
            else:
                status = CheckStatus.passed if result.success else CheckStatus.failed
                count = int(details.get("unexpected_count") or (0 if result.success else 1))
                message = "" if result.success else f"observed {details.get('observed_value', count)}"
            check = Check(
                rule_code, "great_expectations", name, suite.name, describe(expectation), status, count, message
            )
            checks.append(check)
            if status is CheckStatus.failed:
                store.add(failing_records(suite, rule_code, name, details))
    return checks
