"""The audit's Great Expectations step reads frames through Arrow and validates in two passes for speed;
both must give what the plain way gives: the frame DuckDB's .df() reads, and the results of one COMPLETE run."""

from __future__ import annotations

import duckdb
import pandas as pd

from subsidy_warehouse.audit.expectations import (
    frame_batches,
    gx,
    gxe,
    read_frame,
    validate,
    without_batch_fingerprints,
)

ROWS = """
    select * from (values
        ('A1', 2025::integer, 100::bigint, null::bigint, 1.5::double, timestamp '2025-01-02 03:04:05', 'x'),
        ('A2', null, 200, 7, null, null, null),
        ('A2', 1999, -5, 8, 2.5, timestamp '2025-02-03', 'y')
    ) as t(application_id, award_year, approved_cents, over_cap_cents, ratio, paid_on, kind)
"""


def test_frames_through_arrow_are_what_df_reads() -> None:
    with duckdb.connect() as con:
        expected = con.execute(ROWS).df()
        frame = read_frame(con, ROWS)
    pd.testing.assert_frame_equal(frame, expected)
    assert str(frame["over_cap_cents"].dtype) == "Int64"  # a nullable integer, NA and not NaN, as .df() reads it
    assert frame["over_cap_cents"].isna().tolist() == [True, False, False]


def test_two_passes_give_the_results_of_one_complete_run() -> None:
    with duckdb.connect() as con:
        frame = read_frame(con, ROWS)
    context = gx.get_context(mode="ephemeral")
    batch = frame_batches(context.data_sources.add_pandas("frames"), "awards")(frame)

    def suite(name: str) -> gx.ExpectationSuite:
        built = context.suites.add(gx.ExpectationSuite(name=name))
        for expectation in (
            gxe.ExpectColumnValuesToNotBeNull(column="award_year"),  # fails: one row
            gxe.ExpectColumnValuesToBeUnique(column="application_id"),  # fails: two rows
            gxe.ExpectColumnValuesToBeBetween(column="award_year", min_value=2000, max_value=2100),  # fails: 1999
            gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=["x", "y"]),  # passes
            gxe.ExpectColumnSumToBeBetween(column="approved_cents", min_value=295, max_value=295),  # passes
        ):
            built.add_expectation(expectation)
        return built

    complete = {"result_format": "COMPLETE", "unexpected_index_column_names": ["application_id"]}
    with without_batch_fingerprints():
        one_run = suite("one_run")
        results = {r.expectation_config.id: r for r in batch.validate(one_run, result_format=complete).results}
        once = [results[expectation.id] for expectation in one_run.expectations]
        two_passes = suite("two_passes")
        by_id = validate(batch, two_passes, "application_id")
    twice = [by_id[expectation.id] for expectation in two_passes.expectations]
    assert [r.success for r in once] == [False, False, False, True, True]
    assert [r.success for r in twice] == [r.success for r in once]
    for first, second in zip(once, twice, strict=True):
        if not first.success:
            assert second.result == first.result
            assert second.result["unexpected_index_list"]  # the failing rows by key, as the findings need
