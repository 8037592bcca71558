"""The warehouse on Spark (work in progress): the same raw read, the same dbt models, in a local Spark session.

The raw files are read by the product's own reader into a private DuckDB file (every line accounted for,
rejects with reasons, as on every engine), written out as Parquet and loaded into Spark's `raw` database
(Spark's bulk path); dbt-spark's session method then runs the models in this process, on the session made
here (local[*] unless SUBSIDY_SPARK_MASTER says otherwise). The Spark warehouse and its metastore live in
SUBSIDY_SPARK_DIR (default target/spark). A cluster is reached through dbt-spark's thrift method instead.
"""

from __future__ import annotations

import logging
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


LOG_CONFIG = "spark-log4j2.properties"  # the JVM's log: errors only


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
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dderby.system.home={location} -Dlog4j2.configurationFile={Path(__file__).with_name(LOG_CONFIG)}",
        )
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
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


def open_warehouse(schemas: tuple[str, ...]):
    """The Spark session on the warehouse in spark_dir(); a user error when it was never built (checked before
    a JVM starts, which would create an empty metastore) or lacks one of `schemas`."""
    location = spark_dir()
    never_built = UserFacingError(
        f"There is no Spark warehouse in {location}: build it with `subsidy build --target spark` "
        "(or point SUBSIDY_SPARK_DIR at one)."
    )
    if not (location / "metastore").is_dir():
        raise never_built
    spark = spark_session(location)
    spark.sparkContext.setLogLevel("ERROR")
    if not all(spark.catalog.databaseExists(schema) for schema in schemas):
        raise never_built
    return spark


# Spark's types → DuckDB's, so that the copy has the DuckDB build's types (text stays VARCHAR, decimals keep
# their precision and scale, a timestamp keeps its time zone)
DUCKDB_TYPES = {
    "string": "varchar",
    "int": "integer",
    "bigint": "bigint",
    "smallint": "smallint",
    "tinyint": "tinyint",
    "boolean": "boolean",
    "date": "date",
    "double": "double",
    "float": "float",
    "timestamp": "timestamptz",
    "timestamp_ntz": "timestamp",
    "binary": "blob",
}


def duckdb_type(spark_type) -> str:
    """The DuckDB type of a Spark column (a pyspark.sql.types.DataType)."""
    from pyspark.sql.types import CharType, DecimalType, VarcharType

    if isinstance(spark_type, DecimalType):
        return f"decimal({spark_type.precision}, {spark_type.scale})"
    if isinstance(spark_type, CharType | VarcharType):
        return "varchar"
    name = spark_type.simpleString()
    if name not in DUCKDB_TYPES:
        raise UserFacingError(f"A Spark column of type {name} has no DuckDB type in the copy; cast it in its model.")
    return DUCKDB_TYPES[name]


def snapshot_spark(path: Path, schemas: tuple[str, ...] = ("marts", "audit")) -> Path:
    """Copy every table of `schemas` from the Spark warehouse into a new DuckDB file at `path` (same schema,
    table and column names and types), each through Parquet (Spark's bulk path), written in a private folder
    beside `path`: what the DuckDB readers (the build summary, the audit, the dashboards, the comparison
    tests) read."""
    from .build import writer_settings
    from .engines import create_copy_tables

    spark = open_warehouse(schemas)
    # timestamps as Parquet's UTC-adjusted microseconds, which DuckDB reads with their time zone
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    tables = {
        (schema, row.tableName): [(field.name, duckdb_type(field.dataType)) for field in spark.table(f"{schema}.{row.tableName}").schema]
        for schema in schemas
        for row in sorted(spark.sql(f"show tables in {schema}").collect(), key=lambda row: row.tableName)
    }  # fmt: skip
    path.unlink(missing_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="subsidy-spark-copy-", dir=path.parent) as private,
        duckdb.connect(str(path), config=writer_settings()) as duck,
    ):
        qualified = create_copy_tables(duck, schemas, tables)
        for (schema, table), columns in tables.items():
            folder = Path(private) / f"{schema}.{table}"
            spark.table(f"{schema}.{table}").write.parquet(str(folder))
            if any(folder.glob("*.parquet")):  # an empty table may leave no data file
                names = ", ".join(f'"{name}"' for name, _ in columns)
                duck.execute(
                    f"insert into {qualified[schema, table]} select {names} from read_parquet('{folder}/*.parquet')"
                )
    return path


# `subsidy query --target spark`. Spark has no read-only transaction and no roles here, so a statement is run
# only when Spark's own parser and analyzer show it is a plain query of the readers' databases: every operator
# of its plan is one of QUERY_OPERATORS (a whitelist: anything else, a command, an insert, a script, TRANSFORM,
# is refused), every function a built-in one that neither calls Java nor reads files, every relation a table
# or view of READER_DATABASES (raw holds personal IDs in clear; no file is read as a table).
READER_DATABASES = ("marts", "audit")
QUERY_OPERATORS = frozenset(
    {
        # as parsed
        "UnresolvedRelation", "UnresolvedWith", "UnresolvedHint", "UnresolvedHaving", "UnresolvedInlineTable",
        "UnresolvedSubqueryColumnAliases", "UnresolvedTableValuedFunction", "UnresolvedTVFAliases",
        "WithWindowDefinition", "Pivot", "Unpivot",
        # as parsed and as analyzed
        "Project", "Filter", "Aggregate", "Sort", "GlobalLimit", "LocalLimit", "Offset", "Tail", "Distinct",
        "Deduplicate", "Union", "Intersect", "Except", "Join", "LateralJoin", "SubqueryAlias", "OneRowRelation",
        "LocalRelation", "Generate", "Window", "Expand", "Sample", "RepartitionByExpression", "Repartition",
        "RebalancePartitions", "ResolvedHint", "WithCTE", "CTERelationDef", "CTERelationRef", "Range",
        # relations, checked by relation_database
        "View", "HiveTableRelation", "LogicalRelation",
    }
)  # fmt: skip
# functions that run arbitrary Java methods, refused even though they are built in
REFLECTION_FUNCTIONS = frozenset({"reflect", "java_method", "try_reflect"})
CALLS_CODE = ("org.apache.spark.sql.catalyst.expressions.CallMethodViaReflection",
              "org.apache.spark.sql.catalyst.expressions.UserDefinedExpression")  # fmt: skip
LOGICAL_PLAN = "org.apache.spark.sql.catalyst.plans.logical.LogicalPlan"
SUBQUERY = "org.apache.spark.sql.catalyst.expressions.SubqueryExpression"


class Refused(Exception):
    """A statement `subsidy query --target spark` does not run; the message is one sentence."""


def plan_nodes(spark, root):
    """Every operator and expression of a Catalyst plan: operators' children, their expressions (and the plans
    of subqueries in them), and inner children (CTE definitions), as (is_operator, node)."""
    from py4j.java_gateway import is_instance_of

    gateway = spark.sparkContext._gateway
    pending = [root]
    while pending:
        node = pending.pop()
        operator = is_instance_of(gateway, node, LOGICAL_PLAN)
        yield operator, node
        if operator and node.getClass().getSimpleName() == "View":
            continue  # a view's own query was written by the build; its name is what is checked
        for seq in (node.children(), node.innerChildren(), *((node.expressions(),) if operator else ())):
            pending.extend(seq_list(seq))
        if not operator and is_instance_of(gateway, node, SUBQUERY):
            pending.append(node.plan())


def seq_list(seq) -> list:
    return [seq.apply(i) for i in range(seq.size())]


def scala_option(option):
    return option.get() if option.isDefined() else None


def relation_database(node) -> str | None:
    """The database of a catalog table or view operator; None for a file read as a table."""
    kind = node.getClass().getSimpleName()
    table = node.tableMeta() if kind == "HiveTableRelation" else node.desc() if kind == "View" else None
    if kind == "LogicalRelation":
        table = scala_option(node.catalogTable())
    if table is None:
        return None
    database = scala_option(table.identifier().database())
    return database.lower() if database else None


def refused(reason: str) -> Refused:
    return Refused(f"Refused: `subsidy query --target spark` {reason}.")


def function_name(node) -> list[str] | None:
    """The name parts of a function call as the parser writes it; None for any other node."""
    kind = node.getClass().getSimpleName()
    if kind == "UnresolvedFunction":
        return seq_list(node.nameParts())
    if kind == "UnresolvedTableValuedFunction":
        return seq_list(node.name())
    if kind == "UnresolvedGenerator":  # LATERAL VIEW f(...)
        return [node.name().funcName()]
    return None


def check_plan(spark, plan, builtins: frozenset[str]) -> None:
    """Raise Refused unless `plan` (as parsed, then as analyzed) is a plain query that reads tables and views of
    READER_DATABASES only and calls built-in functions that run no Java code."""
    from py4j.java_gateway import is_instance_of

    gateway = spark.sparkContext._gateway
    for operator, node in plan_nodes(spark, plan):
        kind = node.getClass().getSimpleName()
        if operator and kind not in QUERY_OPERATORS:
            raise refused(f"runs plain queries only, not {kind}")
        if kind == "UnresolvedRelation":  # db.table or spark_catalog.db.table; one name is a CTE's or default's
            parts = seq_list(node.multipartIdentifier())
            if len(parts) > 1 and (
                parts[-2].lower() not in READER_DATABASES or parts[:-2] not in ([], ["spark_catalog"])
            ):
                raise refused(f"reads only the marts and audit databases, not {'.'.join(parts)}")
        if kind in ("View", "HiveTableRelation", "LogicalRelation"):
            database = relation_database(node)
            if database not in READER_DATABASES:
                raise refused(f"reads only the marts and audit databases, not {database or 'a file'}")
        name = function_name(node)
        if name is not None and (
            len(name) != 1 or name[0].lower() in REFLECTION_FUNCTIONS or name[0].lower() not in builtins
        ):
            raise refused(f"calls only Spark's built-in functions that run no Java code, not {'.'.join(name)}")
        if not operator and any(is_instance_of(gateway, node, java_class) for java_class in CALLS_CODE):
            raise refused(f"runs no Java code ({kind})")


def query_spark(sql: str):
    """Run one plain query of the marts and audit databases in the Spark session and return its rows as a
    polars frame (decimals with their precision and scale); raises UserFacingError, one sentence, for any
    other statement and for a query Spark cannot run."""
    import polars as pl
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException
    from pyspark.logger import PySparkLogger

    if not sql.strip():
        raise UserFacingError('The query is empty; pass a SQL statement such as "select * from marts.fct_awards".')
    spark = open_warehouse(READER_DATABASES)
    spark.conf.set("spark.sql.runSQLOnFiles", "false")  # no csv.`/path` as a table
    # the error is the one sentence on stderr: not the JVM's log of a failed task, nor pyspark's of the query
    spark.sparkContext.setLogLevel("OFF")
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
    try:
        builtins = frozenset(row[0].lower() for row in spark.sql("show system functions").collect())
        check_plan(spark, spark._jsparkSession.sessionState().sqlParser().parsePlan(sql), builtins)
        frame = spark.sql(sql)  # a plain query: analysed here, run only by toArrow
        check_plan(spark, frame._jdf.queryExecution().analyzed(), builtins)
        return pl.from_arrow(frame.toArrow())
    except Refused as exc:
        raise UserFacingError(str(exc)) from None
    except (PySparkException, Py4JJavaError) as exc:
        detail = getattr(exc, "getMessage", None)
        first = ((detail() if callable(detail) else str(exc)).strip().splitlines() or [type(exc).__name__])[0]
        raise UserFacingError(f"Query failed: {first}") from None
    except pl.exceptions.PolarsError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserFacingError(f"The result cannot be shown; give every column its own name ({first}).") from None
