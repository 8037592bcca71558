"""The same warehouse on Spark: built by `subsidy build --target spark` in a local Spark session (dbt-spark's
session method, local[2]), equal row for row to the DuckDB build of the same files; read by `subsidy query`,
`subsidy audit` and `subsidy dashboards build` with `--target spark` like the DuckDB build. Slow (a JVM per
command, minutes per build): run by `make test-spark`, not by `make test`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest
from engine_compare import differences
from helpers import BIN, copy_build, message_lines, personal_ids_outside_raw, run_cli

from subsidy_warehouse.engines import SCHEMAS

# Spark is an extra (`uv sync --extra spark`): `make test-spark` installs it and selects these; `make test`
# deselects them by their marker (pyproject addopts), so nothing is reported as skipped
pytestmark = pytest.mark.spark
GOLDEN_RAW = Path(__file__).parents[1] / "fixtures" / "golden_raw"
PER_BUREAU = (
    "select approving_bureau, sum(approved_amount) as approved from marts.fct_awards "
    "group by approving_bureau order by approving_bureau"
)


def spark_env(spark_dir: Path) -> dict[str, str]:
    return {**os.environ, "SUBSIDY_SPARK_DIR": str(spark_dir), "SUBSIDY_SPARK_MASTER": "local[2]"}


def on_spark(spark_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`subsidy ARGS` with the Spark warehouse in `spark_dir` (one JVM per command)."""
    return subprocess.run(
        [str(BIN / "subsidy"), *args],
        capture_output=True,
        text=True,
        check=False,
        env=spark_env(spark_dir),
    )


def build_on_spark(raw_dir: Path, spark_dir: Path) -> subprocess.CompletedProcess[str]:
    return on_spark(spark_dir, "build", "--raw-dir", str(raw_dir), "--target", "spark")


def spark_tables(spark_dir: Path, path: Path) -> Path:
    """The Spark build's marts and audit tables as a DuckDB file, read in a separate process (one JVM each)."""
    code = (
        "import sys; from pathlib import Path; from subsidy_warehouse.spark import snapshot_spark; "
        "snapshot_spark(Path(sys.argv[1]))"
    )
    subprocess.run(
        [str(BIN / "python"), "-c", code, str(path)],
        check=True,
        capture_output=True,
        env=spark_env(spark_dir),
    )
    return path


@pytest.fixture(scope="module")
def golden_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("golden-duckdb") / "golden.duckdb"
    run_cli("build", "--raw-dir", str(GOLDEN_RAW), "--warehouse", str(warehouse), check=True)
    return warehouse


@pytest.fixture(scope="module")
def golden_spark(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The golden fixtures built once on Spark for the whole module: its SUBSIDY_SPARK_DIR."""
    spark_dir = tmp_path_factory.mktemp("golden-spark") / "spark"
    built = build_on_spark(GOLDEN_RAW, spark_dir)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    assert "Warehouse built on Spark" in built.stdout
    return spark_dir


def test_golden_fixtures_give_the_same_tables_on_spark(golden_spark: Path, golden_duckdb: Path, tmp_path: Path) -> None:
    assert differences(golden_duckdb, spark_tables(golden_spark, tmp_path / "spark.duckdb")) == []


def test_sample_gives_the_same_tables_on_spark(sample_raw_dir: Path, sample_warehouse: Path, tmp_path: Path) -> None:
    built = build_on_spark(sample_raw_dir, tmp_path / "spark")
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    assert differences(sample_warehouse, spark_tables(tmp_path / "spark", tmp_path / "spark.duckdb")) == []


def test_hostile_corpus_gives_the_same_tables_on_spark(hostile_build: Path, tmp_path: Path) -> None:
    # every class of hostile input (tests/hostile/corpus.py) ends as on DuckDB (conftest.hostile_build), and the
    # resident IDs the corpus hides (full-width, in blocks, glued to other digits, under a misspelt id_type) are
    # pseudonymised by Spark's own SQL (spark__pseudonymise_personal_ids, spark__resident_id_in), not only DuckDB's
    duck = copy_build(hostile_build, tmp_path / "duck", with_raw=True)
    built = build_on_spark(duck.parent / "raw", tmp_path / "spark")
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    snapshot = spark_tables(tmp_path / "spark", tmp_path / "spark.duckdb")
    assert differences(duck, snapshot) == []
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert personal_ids_outside_raw(con) == {}
        assert con.execute("select count(*) from audit.rejected_rows").fetchone()[0] > 0


def test_query_on_spark_gives_the_duckdb_answer(golden_spark: Path, golden_duckdb: Path) -> None:
    on_duckdb = run_cli("query", PER_BUREAU, "-w", str(golden_duckdb), "--format", "csv", check=True)
    answer = on_spark(golden_spark, "query", PER_BUREAU, "--target", "spark", "--format", "csv")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout == on_duckdb.stdout  # decimals as text: the same digits and scale
    lines = answer.stdout.splitlines()
    assert lines[0] == "approving_bureau,approved" and len(lines) > 3
    assert all(line.rsplit(",", 1)[1].endswith(".00") for line in lines[1:])


def warehouse_files(spark_dir: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(spark_dir)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in (spark_dir / "warehouse").rglob("*")
    }


# Refused by the parser's whitelist (not a plain query), by the relation check (outside marts and audit, or a
# file), by the function check (Java reflection), at the parse or at the analysis stage.
FORBIDDEN = [
    "drop table marts.fct_awards",
    "insert into marts.fct_awards select * from marts.fct_awards",
    "create table marts.copied as select * from marts.fct_awards",
    "set spark.sql.runSQLOnFiles=true",
    "add jar /tmp/subsidy-not-a-jar.jar",
    "cache table marts.fct_awards",
    "insert overwrite directory '{leak}' using csv select * from marts.fct_awards",
    "select transform(application_id) using 'cat' as (x) from marts.fct_awards",
    "execute immediate 'drop table marts.fct_awards'",
    "select 1; drop table marts.fct_awards",
    "select * from raw.beneficiaries",
    "select * from spark_catalog.raw.beneficiaries",
    "with t as (select * from raw.beneficiaries) select * from t",
    "select * from marts.fct_awards where beneficiary_id in (select beneficiary_id from raw.beneficiaries)",
    "select * from identifier('raw.beneficiaries')",
    "select * from csv.`/etc/passwd`",
    "select * from text.`{raw_file}`",
    "select reflect('java.lang.System', 'getProperty', 'user.home')",
    "select java_method('java.lang.System', 'getProperty', 'user.home')",
    "select try_reflect('java.lang.System', 'getProperty', 'user.home')",
    "select identifier('reflect')('java.lang.System', 'getProperty', 'user.home')",
]
# every statement in one process (one JVM), then the awards counted in the same session
REFUSALS = """
import json, sys
from subsidy_warehouse.errors import UserFacingError
from subsidy_warehouse.spark import query_spark
answers = []
for sql in json.loads(sys.argv[1]):
    try:
        answers.append(["ran", query_spark(sql).rows()])
    except UserFacingError as exc:
        answers.append(["refused", str(exc)])
print(json.dumps([answers, query_spark("select count(*) from marts.fct_awards").item()], default=str))
"""


def test_query_on_spark_runs_plain_queries_of_marts_and_audit_only(golden_spark: Path, tmp_path: Path) -> None:
    before = warehouse_files(golden_spark)
    statements = [sql.format(leak=tmp_path / "leak", raw_file=GOLDEN_RAW / "beneficiaries.csv") for sql in FORBIDDEN]
    refused = on_spark(golden_spark, "query", statements[0], "--target", "spark")
    assert refused.returncode == 2
    lines = message_lines(refused.stderr)  # before it, only the JVM's notice of its incubator modules
    assert lines[-1] == "error: Refused: `subsidy query --target spark` runs plain queries only, not DropTable."
    assert not any("error" in line.lower() or "Traceback" in line for line in lines[:-1]), lines

    completed = subprocess.run(
        [str(BIN / "python"), "-c", REFUSALS, json.dumps(statements)],
        capture_output=True,
        text=True,
        env=spark_env(golden_spark),
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    answers, awards = json.loads(completed.stdout.splitlines()[-1])
    for sql, (outcome, message) in zip(statements, answers, strict=True):
        assert outcome == "refused", f"{sql} ran: {message}"
        assert "\n" not in message, message
        # all by the guard (identifier('reflect') only once analysed) but one, which is no SQL to Spark
        if sql.startswith("select 1;"):
            assert message.startswith("Query failed: [PARSE_SYNTAX_ERROR]"), message
        else:
            assert message.startswith("Refused: `subsidy query --target spark` ") and message.endswith("."), message
    assert awards == 16
    assert warehouse_files(golden_spark) == before
    assert not (tmp_path / "leak").exists()


def column_types(warehouse: Path) -> dict[tuple[str, str, str], str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            (schema, table, column): kind
            for schema, table, column, kind in con.execute(
                "select table_schema, table_name, column_name, data_type from information_schema.columns "
                "where list_contains(?, table_schema)",
                [list(SCHEMAS)],
            ).fetchall()
        }


def test_audit_on_spark_gives_the_duckdb_verdict(golden_spark: Path, golden_duckdb: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copies" / "spark-copy.duckdb"
    audited = on_spark(golden_spark, "audit", "--target", "spark", "-w", str(copy), "--out", str(tmp_path / "a"))
    on_duckdb = run_cli("audit", "-w", str(golden_duckdb), "--out", str(tmp_path / "b"))
    assert on_duckdb.returncode == 1, on_duckdb.stderr  # the golden data carries fatal findings
    assert audited.returncode == on_duckdb.returncode, audited.stderr[-2000:]
    verdict = audited.stdout.splitlines()[-1]
    assert verdict == on_duckdb.stdout.splitlines()[-1]  # checks run and failed, findings, fatal rules
    assert "fatal rules failed" in verdict
    reports = [json.loads(next((tmp_path / run).glob("*/report.json")).read_text()) for run in ("a", "b")]
    assert reports[0]["verdict"]["findings"] == reports[1]["verdict"]["findings"] > 0
    # the copy holds raw (personal IDs in clear): owner only, no scratch left beside it; the DuckDB build's types
    assert copy.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in copy.parent.iterdir()) == [copy.name]
    types = column_types(copy)
    assert {schema for schema, _, _ in types} == set(SCHEMAS)
    assert types == column_types(golden_duckdb)


def test_dashboards_build_from_spark(golden_spark: Path, tmp_path: Path) -> None:
    copy = tmp_path / "dashboards.duckdb"
    built = on_spark(golden_spark, "dashboards", "build", "--target", "spark", "-w", str(copy), "--company-pages", "1")
    assert built.returncode == 0, built.stderr[-3000:]
    assert "Dashboards built in" in built.stdout
    assert "1 company pages prerendered" in built.stdout
    assert copy.stat().st_mode & 0o777 == 0o600
    with duckdb.connect(str(copy), read_only=True) as con:
        schemas = {row[0] for row in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        assert "raw" not in schemas and {"marts", "audit"} <= schemas
        assert con.execute("select count(*) from marts.fct_awards").fetchone()[0] == 16


def test_a_spark_warehouse_never_built_is_one_sentence(tmp_path: Path) -> None:
    for args in (
        ["query", "select 1", "--target", "spark"],
        ["audit", "--target", "spark", "-w", str(tmp_path / "copy.duckdb")],
        ["dashboards", "build", "--target", "spark", "-w", str(tmp_path / "copy.duckdb")],
    ):
        missing = on_spark(tmp_path / "nothing", *args)
        assert missing.returncode == 2, args
        assert message_lines(missing.stderr) == [
            f"error: There is no Spark warehouse in {tmp_path / 'nothing'}: build it with `subsidy build --target "
            "spark` (or point SUBSIDY_SPARK_DIR at one)."
        ]
        assert not (tmp_path / "nothing").exists() and not (tmp_path / "copy.duckdb").exists()
