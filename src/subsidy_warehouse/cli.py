"""`subsidy`: the command line of the subsidy warehouse."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from .errors import UserFacingError

app = typer.Typer(
    help="Subsidy warehouse for Shangcheng district's AI pilot-zone measures (上城区人工智能先导区政策资金仓库).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse", "-w", help="DuckDB warehouse file [default: $SUBSIDY_WAREHOUSE or target/warehouse.duckdb]."
    ),
]
TargetOption = Annotated[
    str,
    typer.Option(
        "--target", "-t", help="Engine: duckdb (a local file), postgres (a server) or spark (a Spark session)."
    ),
]
DsnOption = Annotated[
    str | None,
    typer.Option("--dsn", help="PostgreSQL URL postgresql://user:password@host:port/dbname [default: $SUBSIDY_PG_DSN]."),
]


# More company pages than any district has beneficiaries (1M applications come from 112,000): each takes seconds.
MAX_COMPANY_PAGES = 1_000_000

QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress on stderr (results on stdout are unchanged).")
]


def shown_progress(command: str, quiet: bool):
    """Progress of `command` on stderr for the length of a `with` block: a bar on a terminal, plain
    timestamped lines when piped or in CI, nothing with --quiet."""
    from .progress import make_reporter, reporting

    return reporting(make_reporter(command, quiet))


def fail(message: str, code: int = 2) -> None:
    from .errors import printable

    # the last line of defence: a message that quotes a file shows no escape code and no resident ID number
    typer.echo(f"error: {printable(message)}", err=True)
    raise typer.Exit(code)


def resolve_warehouse(warehouse: Path | None) -> Path:
    from .paths import default_warehouse

    return warehouse if warehouse is not None else default_warehouse()


@app.command()
def generate(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Folder to write beneficiaries.csv, applications.csv, disbursements.csv."),
    ],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 20250101,
    scale: Annotated[float, typer.Option(min=0.001, help="Size multiplier: 1 ≈ 5,000 applications, 200 ≈ 1M.")] = 1.0,
    messy: Annotated[
        bool,
        typer.Option("--messy", help="Write the same records as bureau files (.xlsx, GBK .csv) for `subsidy load`."),
    ] = False,
    clean: Annotated[
        bool, typer.Option("--clean", help="No injected problems: every record follows the policy.")
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Write realistic sample raw files, with a small known share of every kind of problem (unless --clean)."""
    from .sample_data import check_scale, generate_sample, sample_records

    try:
        check_scale(scale, out, messy)
        with shown_progress("生成", quiet):
            if messy:
                from .messy_files import MessyWriter

                counts = MessyWriter(sample_records(seed, scale, not clean), seed).write(out)
            else:
                counts = {
                    f"{name}.csv": rows
                    for name, rows in generate_sample(out, seed=seed, scale=scale, problems=not clean).items()
                }
    except UserFacingError as exc:
        fail(str(exc))
    except OSError as exc:  # writing the files: a full disk, no permission
        fail(f"Cannot write the sample into {out}: {exc.strerror or exc}.")
    for name, rows in counts.items():
        typer.echo(f"{out / name}: {rows:,} rows")


@app.command()
def load(
    files: Annotated[list[Path], typer.Argument(help="Bureau files: .xlsx or .xls workbooks, or .csv (UTF-8 or GBK).")],
    raw_dir: Annotated[Path, typer.Option("--raw-dir", "-r", help="Folder of raw contract files to append to.")],
    quiet: QuietOption = False,
) -> None:
    """Load the files bureaus send into the raw contract (idempotent; re-issues supersede)."""
    from .loader import load_files

    try:
        with shown_progress("载入", quiet):
            outcomes = load_files(files, raw_dir)
    except UserFacingError as exc:
        fail(f"{exc} Nothing was loaded.")
    for outcome in outcomes:
        typer.echo(f"{outcome.file}: {outcome.message}")


@app.command()
def build(
    raw_dir: Annotated[Path, typer.Option("--raw-dir", "-r", help="Folder holding the three raw CSV files.")],
    warehouse: WarehouseOption = None,
    full_refresh: Annotated[
        bool,
        typer.Option("--full-refresh", help="Rebuild everything, even when the files only grew since the last build."),
    ] = False,
    target: TargetOption = "duckdb",
    dsn: DsnOption = None,
    quiet: QuietOption = False,
) -> None:
    """Build the warehouse (seeds, models, tests) from raw files. Findings are data, not failures.

    When the raw files only grew since the last build of the same warehouse (a daily load: lines appended,
    nothing before them changed), only the new lines are read and the models recompute what they touch."""
    from .build import BuildFailed, build_warehouse
    from .summary import print_summary

    if target != "duckdb":
        from .engines import build_on_server

        try:
            build_on_server(raw_dir, target, dsn)
        except UserFacingError as exc:
            fail(str(exc))
        except BuildFailed as exc:
            fail(str(exc), code=1)
        return
    try:
        with shown_progress("构建", quiet):
            result = build_warehouse(raw_dir, resolve_warehouse(warehouse), full_refresh)
    except UserFacingError as exc:
        fail(str(exc))
    except BuildFailed as exc:
        fail(str(exc), code=1)
    how = "daily load: the lines appended since the last build" if result.mode == "daily" else "full build"
    typer.echo(f"Warehouse built in {result.seconds:.1f} s ({how}): {result.warehouse}")
    print_summary(result.warehouse)


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help='One SQL statement, e.g. "select * from marts.fct_awards limit 10".')],
    warehouse: WarehouseOption = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    target: TargetOption = "duckdb",
    dsn: DsnOption = None,
) -> None:
    """Run read-only SQL on the warehouse (on postgres: in a read-only transaction; on spark: one plain query of
    the marts and audit databases, checked by Spark's parser and analyzer before it runs)."""
    from .query import OutputFormat, render, run_query

    try:
        chosen = OutputFormat(output_format)
    except ValueError:
        fail(f"--format must be one of table, csv, json (got {output_format!r}).")
    try:
        if target != "duckdb":
            from .engines import query_on_server

            frame = query_on_server(target, dsn, sql)
        else:
            frame = run_query(resolve_warehouse(warehouse), sql, flat=chosen is OutputFormat.csv)
        text = render(frame, chosen)
    except UserFacingError as exc:
        fail(str(exc))
    sys.stdout.write(text)
    if chosen is not OutputFormat.json:
        sys.stdout.write("\n" if chosen is OutputFormat.table else "")


@app.command()
def sql(warehouse: WarehouseOption = None) -> None:
    """Open a SQL console (Harlequin) on the warehouse: read-only and offline, as `subsidy query`."""
    from .console import open_console

    try:
        open_console(resolve_warehouse(warehouse))
    except UserFacingError as exc:
        fail(str(exc))


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the exports into.")],
    bureau: Annotated[
        list[str] | None, typer.Option("--bureau", "-b", help="A bureau's Chinese name, e.g. 区科技局 (repeatable).")
    ] = None,
    all_bureaus: Annotated[bool, typer.Option("--all-bureaus", help="One export for each of the eight bureaus.")] = False,
    year: Annotated[int | None, typer.Option(help="Only this award year (payments: this payment year).")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="xlsx (one workbook), csv or parquet.")] = "xlsx",
    warehouse: WarehouseOption = None,
    quiet: QuietOption = False,
) -> None:
    """Write a bureau's own records (awards with caps, payments, findings, cap room left) as a workbook."""
    from .bureau_workbooks import ExportFormat, export_bureaus

    try:
        chosen = ExportFormat(output_format)
    except ValueError:
        fail(f"--format must be one of xlsx, csv, parquet (got {output_format!r}).")
    if bool(bureau) == all_bureaus:
        fail("Give either --bureau NAME or --all-bureaus.")
    try:
        with shown_progress("导出", quiet):
            exports = export_bureaus(resolve_warehouse(warehouse), out, None if all_bureaus else bureau, year, chosen)
    except UserFacingError as exc:
        fail(str(exc))
    for done in exports:
        typer.echo(f"{done.path}: " + ", ".join(f"{name} {rows:,} 行" for name, rows in done.rows.items()))


def print_rule_catalogue() -> None:
    from .audit.model import load_rule_catalogue

    for rule in load_rule_catalogue().values():
        typer.echo(f"{rule.rule_code:<24} {rule.severity:<8} {rule.category:<13} {rule.description_zh}")
        typer.echo(f"{'':<47} {rule.description_en}")


def print_comparison(run_a: Path, run_b: Path) -> None:
    from .audit.compare import compare_runs

    comparison = compare_runs(run_a, run_b)
    typer.echo(f"{run_a} → {run_b}")
    typer.echo(
        f"新增 new: {len(comparison.new)}   已解决 resolved: {len(comparison.resolved)}   "
        f"未变 unchanged: {len(comparison.unchanged)}"
    )
    for label, findings in (("新增 new", comparison.new), ("已解决 resolved", comparison.resolved)):
        for finding in findings:
            typer.echo(
                f"{label}\t{finding['rule_code']}\t{finding['record_type']}\t{finding['record_id']}\t"
                f"{finding['amount_at_issue']}\t{finding['detail']}"
            )


@app.command()
def audit(
    warehouse: WarehouseOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for audit runs [default: audits/ beside the warehouse].")
    ] = None,
    list_rules: Annotated[bool, typer.Option("--list-rules", help="Print the rule catalogue and exit.")] = False,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--compare", help="Two audit run folders: list findings new, resolved and unchanged."),
    ] = None,
    target: TargetOption = "duckdb",
    dsn: DsnOption = None,
    quiet: QuietOption = False,
) -> None:
    """Rerun every check (dbt tests + Great Expectations) on a warehouse, read-only, and write a report.

    With --target postgres or spark the warehouse is first copied from the server or the Spark warehouse into
    the --warehouse file (a local DuckDB copy, owner-only: it holds the raw schema) and audited there.

    Exit code: 0 when no fatal rule fails, 1 when one does, 2 when the audit could not run.
    """
    try:
        if list_rules:
            print_rule_catalogue()
            return
        if compare:
            print_comparison(*compare)
            return
        from .audit.report import rule_names
        from .audit.run import run_audit

        chosen = resolve_warehouse(warehouse)
        if target != "duckdb":
            from .engines import copy_from_server

            chosen = copy_from_server(target, dsn, chosen, with_raw=True)
        with shown_progress("审计", quiet):
            result = run_audit(chosen, out if out is not None else chosen.resolve().parent / "audits")
    except UserFacingError as exc:
        fail(str(exc))
    verdict = result.report["verdict"]
    typer.echo(f"Report: {result.run_dir / 'report.html'}")
    typer.echo(
        f"审计结论 verdict: {'通过 PASS' if result.passed else '不通过 FAIL'} — {verdict['checks_run']} checks, "
        f"{verdict['checks_failed']} failed, {verdict['findings']:,} findings"
        + (f"; 致命规则未通过 fatal rules failed: {rule_names(verdict['fatal_rules_failed'])}" if verdict["fatal_rules_failed"] else "")
    )
    raise typer.Exit(verdict["exit_code"])


@app.command()
def simulate(
    warehouse: WarehouseOption = None,
    reading: Annotated[
        list[str] | None,
        typer.Option("--reading", help="CLAUSE.PARAMETER=VALUE, e.g. M02-3.cap_scope=annual (repeatable)."),
    ] = None,
    readings_file: Annotated[
        Path | None, typer.Option("--readings", help="File of readings, one CLAUSE.PARAMETER=VALUE per line.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for simulation.json and simulation.xlsx.")] = Path(
        "simulation"
    ),
) -> None:
    """Recompute every award's caps under other readings of the draft (seed policy_readings), read-only.

    Prints the within-cap totals under the default and the chosen readings, per measure, clause, bureau, award
    year and beneficiary, and every award whose amount changes. With no reading: the warehouse's own numbers."""
    from .simulate import parse_reading, read_readings_file, summary_lines
    from .simulate import simulate as run_simulation

    try:
        chosen = [parse_reading(text) for text in reading or []]
        if readings_file is not None:
            chosen += read_readings_file(readings_file)
        outcome = run_simulation(resolve_warehouse(warehouse), chosen, out)
    except UserFacingError as exc:
        fail(str(exc))
    for line in summary_lines(outcome.result):
        typer.echo(line)
    typer.echo(f"结果文件：{outcome.json_path}、{outcome.xlsx_path}（用时 {outcome.seconds:.1f} 秒，其中 dbt 编译 {outcome.compile_seconds:.1f} 秒）")


dashboards_app = typer.Typer(help="Leadership dashboards (Evidence, in reports/): build the static site, serve it.")
app.add_typer(dashboards_app, name="dashboards")


@dashboards_app.command("build")
def dashboards_build(
    warehouse: WarehouseOption = None,
    audits: Annotated[
        Path | None, typer.Option("--audits", help="Audit runs folder [default: audits/ beside the warehouse].")
    ] = None,
    company_pages: Annotated[
        int,
        typer.Option(
            min=1, max=MAX_COMPANY_PAGES, help="Company pages to prerender (largest first); the others render in the browser."
        ),
    ] = 100,
    target: TargetOption = "duckdb",
    dsn: DsnOption = None,
    quiet: QuietOption = False,
) -> None:
    """Build the dashboards from a copy of the warehouse into reports/build (offline).

    With --target postgres or spark the marts are first copied from the server or the Spark warehouse into the
    --warehouse file (without the raw schema); to show an audit, audit that copy (`subsidy audit -w FILE`) and
    build again from it."""
    from .dashboards import build_site

    try:
        chosen = resolve_warehouse(warehouse)
        if target != "duckdb":
            from .engines import copy_from_server

            chosen = copy_from_server(target, dsn, chosen, with_raw=False)
        with shown_progress("看板", quiet):
            site = build_site(chosen, audits, company_pages)
    except UserFacingError as exc:
        fail(str(exc))
    typer.echo(
        f"Dashboards built in {site.seconds:.0f} s: {site.site_dir} ({site.size_bytes / 1e6:.1f} MB, "
        f"{site.company_pages:,} company pages prerendered)"
    )
    typer.echo(f"Audit shown on 数据质量: {site.audit_run or 'none of this warehouse yet (run subsidy audit)'}")
    typer.echo("Open them with: .venv/bin/subsidy dashboards serve   (then http://127.0.0.1:3000/)")


@dashboards_app.command("serve")
def dashboards_serve(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one).")] = 3000,
) -> None:
    """Serve the built dashboards on 127.0.0.1 (localhost only)."""
    from .dashboards import serve_site

    try:
        serve_site(port)
    except UserFacingError as exc:
        fail(str(exc))


docs_app = typer.Typer(help="The project's documentation (dbt docs, offline): build one HTML page, serve it.")
app.add_typer(docs_app, name="docs")


DocsFolderOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Folder of index.html (default: docs/ beside the warehouse).")
]


def docs_folder(out: Path | None, warehouse: Path | None) -> Path:
    return out if out is not None else resolve_warehouse(warehouse).resolve().parent / "docs"


@docs_app.command("build")
def docs_build(
    out: DocsFolderOption = None,
    warehouse: WarehouseOption = None,
    quiet: QuietOption = False,
) -> None:
    """Render every model, column, test, seed and the lineage to the dashboards as one offline HTML page."""
    from .docs_site import build_docs

    try:
        with shown_progress("文档", quiet):
            site = build_docs(resolve_warehouse(warehouse), docs_folder(out, warehouse))
    except UserFacingError as exc:
        fail(str(exc))
    typer.echo(f"Docs built in {site.seconds:.0f} s: {site.index} ({site.size_bytes / 1e6:.1f} MB, opens offline)")


@docs_app.command("serve")
def docs_serve(
    out: DocsFolderOption = None,
    warehouse: WarehouseOption = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one).")] = 8080,
) -> None:
    """Serve the built documentation on 127.0.0.1 (localhost only)."""
    from .docs_site import serve_docs

    try:
        serve_docs(docs_folder(out, warehouse), port)
    except UserFacingError as exc:
        fail(str(exc))


# Python's own ending of a process frees every object and module one by one: 0.5-0.7 s after a dbt build or an
# audit (2,500 modules), which a `make test` run pays in 200 CLI processes, a 1M build once more.
def main() -> None:
    """The `subsidy` command: the CLI, then an exit that does what Python's ending does that anyone could see
    (non-daemon threads joined, atexit handlers such as logging's flush and temporary folders' removal, the
    output flushed) and skips the teardown of objects no one will read again. Every file and connection the
    commands open is closed by the command itself."""
    try:
        app()
    except SystemExit as exc:
        if not isinstance(exc.code, int | None):
            raise  # a message as the exit code: Python prints it
        code = exc.code or 0
    else:
        code = 0
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a reader gone (`subsidy query ... | head`): Python's own exit says 120 then
        code = code or 120
    os._exit(code)


if __name__ == "__main__":
    main()
