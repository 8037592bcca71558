"""`subsidy`: the command line of the subsidy warehouse."""

from __future__ import annotations

import sys
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


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
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
) -> None:
    """Write realistic sample raw files, with a small known share of every kind of problem."""
    from .sample_data import generate_sample, sample_records

    try:
        if messy:
            from .messy_files import MessyWriter

            counts = MessyWriter(sample_records(seed, scale), seed).write(out)
        else:
            counts = {f"{name}.csv": rows for name, rows in generate_sample(out, seed=seed, scale=scale).items()}
    except UserFacingError as exc:
        fail(str(exc))
    for name, rows in counts.items():
        typer.echo(f"{out / name}: {rows:,} rows")


@app.command()
def load(
    files: Annotated[list[Path], typer.Argument(help="Bureau files: .xlsx workbooks or .csv (UTF-8 or GBK).")],
    raw_dir: Annotated[Path, typer.Option("--raw-dir", "-r", help="Folder of raw contract files to append to.")],
) -> None:
    """Load the files bureaus send into the raw contract (idempotent; re-issues supersede)."""
    from .loader import load_files

    try:
        outcomes = load_files(files, raw_dir)
    except UserFacingError as exc:
        fail(f"{exc} Nothing was loaded.")
    for outcome in outcomes:
        typer.echo(f"{outcome.file}: {outcome.message}")


@app.command()
def build(
    raw_dir: Annotated[Path, typer.Option("--raw-dir", "-r", help="Folder holding the three raw CSV files.")],
    warehouse: WarehouseOption = None,
) -> None:
    """Build the warehouse (seeds, models, tests) from raw files. Findings are data, not failures."""
    from .build import BuildFailed, build_warehouse
    from .summary import print_summary

    target = resolve_warehouse(warehouse)
    try:
        result = build_warehouse(raw_dir, target)
    except UserFacingError as exc:
        fail(str(exc))
    except BuildFailed as exc:
        fail(str(exc), code=1)
    typer.echo(f"Warehouse built in {result.seconds:.1f} s: {result.warehouse}")
    print_summary(result.warehouse)


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help='One SQL statement, e.g. "select * from marts.fct_awards limit 10".')],
    warehouse: WarehouseOption = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
) -> None:
    """Run read-only SQL on the warehouse."""
    from .query import OutputFormat, render, run_query

    try:
        chosen = OutputFormat(output_format)
    except ValueError:
        fail(f"--format must be one of table, csv, json (got {output_format!r}).")
    try:
        frame = run_query(resolve_warehouse(warehouse), sql)
    except UserFacingError as exc:
        fail(str(exc))
    sys.stdout.write(render(frame, chosen))
    if chosen is not OutputFormat.json:
        sys.stdout.write("\n" if chosen is OutputFormat.table else "")


if __name__ == "__main__":
    app()
