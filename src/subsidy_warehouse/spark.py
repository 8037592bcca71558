"""The warehouse on Spark (work in progress): the same raw read, the same dbt models, in a local Spark session.

The raw files are read by the product's own reader into a private DuckDB file (every line accounted for,
rejects with reasons, as on every engine), written out as Parquet and loaded into Spark's `raw` database
(Spark's bulk path); dbt-spark's session method then runs the models in this process, on the session made
here (local[*] unless SUBSIDY_SPARK_MASTER says otherwise). The Spark warehouse and its metastore live in
SUBSIDY_SPARK_DIR (default target/spark). A cluster is reached through dbt-spark's thrift method instead.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .errors import UserFacingError
from .paths import project_dir


@dataclass(frozen=True)
class SparkBuild:
    location: Path
    seconds: float


def spark_dir() -> Path:
    return Path(os.environ.get("SUBSIDY_SPARK_DIR") or project_dir() / "target" / "spark").resolve()


def spark_session(location: Path):
    """The Spark session dbt-spark's session method picks up (getOrCreate), with its warehouse and Derby
    metastore under `location`."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserFacingError("Spark is not installed: run `uv sync --extra spark` (or `make test-spark`).") from None
    location.mkdir(parents=True, exist_ok=True)
    return (
        SparkSession.builder.master(os.environ.get("SUBSIDY_SPARK_MASTER", "local[*]"))
        .appName("subsidy-warehouse")
        .config("spark.sql.warehouse.dir", str(location / "warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={location / 'metastore'};create=true",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={location}")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .enableHiveSupport()
        .getOrCreate()
    )


def build_spark(raw_dir: Path) -> SparkBuild:
    """Build the warehouse from `raw_dir` in the Spark session; raises UserFacingError or build.BuildFailed."""
    from .build import BuildFailed, code_fingerprint, land_raw, writer_settings
    from .dbt_runner import run_dbt
    from .raw_loader import check_raw_dir

    started = time.perf_counter()
    check_raw_dir(raw_dir)
    location = spark_dir()
    spark = spark_session(location)
    spark.sparkContext.setLogLevel("ERROR")
    with tempfile.TemporaryDirectory(prefix="subsidy-spark-build-") as private:
        work = Path(private)
        with duckdb.connect(str(work / "spark_raw.duckdb"), config=writer_settings()) as duck:
            land_raw(duck, raw_dir, None, code_fingerprint())
            tables = [t for (t,) in duck.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()]  # fmt: skip
            for table in tables:
                duck.execute(f"copy raw.\"{table}\" to '{work / table}.parquet' (format parquet)")
        for schema in ("raw", "reference", "policy", "staging", "intermediate", "marts", "audit"):
            spark.sql(f"drop database if exists {schema} cascade")
        spark.sql("create database raw")
        for table in tables:
            spark.read.parquet(str(work / f"{table}.parquet")).write.saveAsTable(f"raw.{table}")
        run = run_dbt(["build", "--exclude", "tag:audit_rule"], location / "spark", work / "logs", target="spark")
        if not run.success:
            log_copy = location / "failed-build.log"
            if (work / "logs" / "dbt.log").exists():
                log_copy.write_bytes((work / "logs" / "dbt.log").read_bytes())
            detail = "; ".join(run.failed_nodes()[:3]) or run.error or "see the log"
            raise BuildFailed(f"dbt build failed on Spark ({detail}); the log is at {log_copy}.")
    return SparkBuild(location=location, seconds=time.perf_counter() - started)


def snapshot_spark(path: Path, schemas: tuple[str, ...] = ("marts", "audit")) -> Path:
    """The Spark warehouse's tables of `schemas` as a DuckDB file (via Parquet), for the comparison tests and
    the DuckDB readers."""
    spark = spark_session(spark_dir())
    with tempfile.TemporaryDirectory(prefix="subsidy-spark-copy-") as private, duckdb.connect(str(path)) as duck:
        for schema in schemas:
            duck.execute(f'create schema if not exists "{schema}"')
            for row in spark.sql(f"show tables in {schema}").collect():
                folder = Path(private) / f"{schema}.{row.tableName}"
                spark.table(f"{schema}.{row.tableName}").write.parquet(str(folder))
                duck.execute(
                    f'create table "{schema}"."{row.tableName}" as select * from read_parquet(\'{folder}/*.parquet\')'
                )
    return path
