"""The short summary printed after a build: awards, money approved and paid, findings by rule."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import typer

from .query import open_read_only


def wan(amount: object) -> str:
    """Yuan (a number or its text) as 万元 with two decimals and separators, rounded half up."""
    value = (Decimal(str(amount or 0)) / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value:,.2f}"


def wan_yuan(amount: object) -> str:
    """Yuan as 万元 with its unit, the way district officials read amounts."""
    return f"{wan(amount)} 万元"


def print_summary(warehouse: Path) -> None:
    with open_read_only(warehouse) as con:
        awards, approved, within, over = con.execute(
            "select count(*), sum(approved_amount), sum(within_cap_amount), sum(over_cap_amount) from marts.fct_awards"
        ).fetchone()
        paid = con.execute("select sum(signed_amount) from marts.fct_disbursements").fetchone()[0]
        rejected = con.execute("select count(*) from audit.rejected_rows").fetchone()[0]
        findings = con.execute(
            "select rule_code, severity, count(*), sum(amount_at_issue) from audit.exceptions "
            "group by all order by count(*) desc"
        ).fetchall()
        files = con.execute(
            "select source_file, physical_lines, header_lines + blank_lines, staged_lines, rejected_lines, "
            "collapsed_duplicate_lines, unaccounted_lines from audit.raw_reconciliation order by source_file"
        ).fetchall()
    typer.echo(f"  获批项目 awards:            {awards:,}")
    typer.echo(f"  核定金额 approved:          {wan_yuan(approved)}")
    typer.echo(f"  上限内金额 within caps:     {wan_yuan(within)}")
    typer.echo(f"  超上限金额 over caps:       {wan_yuan(over)}")
    typer.echo(f"  净拨付金额 paid (net):      {wan_yuan(paid)}")
    typer.echo(f"  拒收原始行 rejected rows:   {rejected:,}")
    typer.echo("  原始文件行数 lines read = 表头与空行 header+blank + 入库 staged + 拒收 rejected + 重复合并 collapsed:")
    for name, lines, header_blank, staged, rejected_lines, collapsed, unaccounted in files:
        balance = "" if unaccounted == 0 else f"   ← {unaccounted:,} 行未对账 lines unaccounted"
        typer.echo(
            f"    {name:<20} {lines:>10,} = {header_blank:,} + {staged:,} + {rejected_lines:,} + {collapsed:,}{balance}"
        )
    typer.echo("  异常 findings by rule:")
    for rule, severity, count, amount in findings:
        typer.echo(f"    {rule:<27} {severity:<8} {count:>7,}  {wan_yuan(amount)}")
