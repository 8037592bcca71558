"""The findings of a running audit, kept on disk instead of as Python objects, and read back in report order.

At 10M applications an audit finds about 1.8M failing records; held as Python objects (and copied for the
report, the masking and the files) they took most of a 16.7 GB peak. Here they go into a DuckDB file in a
private temporary folder (owner-only, deleted when the audit ends: the records are not masked yet, because
the report orders them by their unmasked keys), a batch at a time. What the report says of them is computed in SQL
(`summary`), and the report's files are written by DuckDB from a numbered copy (`number_into`), so that memory stays
bounded whatever the number of findings: DuckDB sorts them within STORE_MEMORY_LIMIT (REPORT_MEMORY_LIMIT once
the audited warehouse is closed) and spills the rest to that folder.

The order is the one the report has always used: rule (catalogue order), check, record type, record id, and
for equal keys the order the findings were added (a stable sort), which `seq` records.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

from .model import FINDING_COLUMNS, Finding

STORE_MEMORY_LIMIT = "512MB"
REPORT_MEMORY_LIMIT = "2GB"  # less than the audited warehouse's connection took, which is closed by then
BATCH_ROWS = 20_000
# amounts of findings are yuan with cents (the rule models return DECIMAL(18,2) or sums of them)
AMOUNT = pa.decimal128(38, 2)
SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("rule_order", pa.int32()),
        *[(name, pa.string()) for name in FINDING_COLUMNS[:8]],
        ("award_year", pa.int64()),
        ("amount_at_issue", AMOUNT),
        ("detail", pa.string()),
    ]
)
assert SCHEMA.names[2:] == FINDING_COLUMNS  # the table's columns after seq and rule_order are a Finding's fields
COLUMNS = ", ".join(f'"{name}"' for name in FINDING_COLUMNS)
# rule (catalogue order), check, record type, record id, and for equal keys the order the findings were added
REPORT_ORDER = ", ".join(f'findings."{name}"' for name in ("rule_order", "check", "record_type", "record_id", "seq"))
TOTALS = ("bureau", "measure_code")  # the findings' fields the report totals money by
# one row per row of a rule model's test (tests/generic/audit_rule.sql): a finding of its rule, its measure
# looked up from its clause; no amount counts as 0.00 and no detail as ''
INSERT_RULE_ROWS = """
    insert into findings
    select rows.seq, $rule_order, $rule_code, $check,
        cast(rows.record_type as varchar), cast(rows.record_id as varchar), cast(rows.beneficiary_id as varchar),
        cast(rows.clause_code as varchar), measures.measure_code, cast(rows.bureau as varchar),
        rows.award_year, cast(coalesce(rows.amount_at_issue, 0) as decimal(38, 2)),
        coalesce(cast(rows.detail as varchar), '')
    from rows left join measures on measures.clause_code = rows.clause_code
"""


class FindingStore:
    """Findings added as they are found (`add`, `add_rule_rows`) and read back in report order (`batches`)."""

    def __init__(self, rule_codes: list[str]) -> None:
        self.rule_order = {code: index for index, code in enumerate(rule_codes)}
        self.folder = tempfile.TemporaryDirectory(prefix="subsidy-audit-")  # mode 0700
        self.con = duckdb.connect(
            str(Path(self.folder.name) / "findings.duckdb"),
            config={
                "memory_limit": STORE_MEMORY_LIMIT,
                "temp_directory": str(Path(self.folder.name) / "spill"),
            },
        )
        self.con.execute(
            "create table findings ("
            + ", ".join(f'"{field.name}" {duckdb_type(field.type)}' for field in SCHEMA)
            + ")"
        )
        self.count = 0
        self.pending: list[Finding] = []

    def __enter__(self) -> FindingStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()
        self.folder.cleanup()

    def add(self, findings: list[Finding]) -> None:
        """Keep `findings` (in this order after any added before)."""
        self.pending.extend(findings)
        if len(self.pending) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        rows = self.pending
        self.pending = []
        columns: list[list[object]] = [
            list(range(self.count, self.count + len(rows))),
            [self.rule_order[finding.rule_code] for finding in rows],
            *[[getattr(finding, name) for finding in rows] for name in FINDING_COLUMNS],
        ]
        self.count += len(rows)
        arrays = [pa.array(values, type=field.type) for values, field in zip(columns, SCHEMA, strict=True)]
        batch = pa.Table.from_arrays(arrays, schema=SCHEMA)
        self.con.from_arrow(batch).insert_into("findings")

    def add_rule_rows(self, reader: pa.RecordBatchReader, rule_code: str, check: str, measures: dict[str, str]) -> None:
        """Keep one finding of `rule_code` per row that a rule model's test returns (`reader`, its rows as Arrow
        straight from the warehouse: 1.8M of them at 10M applications never become Python objects)."""
        self.flush()
        measures_table = pa.table(
            {"clause_code": list(measures), "measure_code": list(measures.values())},
            schema=pa.schema([("clause_code", pa.string()), ("measure_code", pa.string())]),
        )
        self.con.register("measures", measures_table)
        try:
            for batch in reader:
                seq = pa.array(range(self.count, self.count + batch.num_rows), type=pa.int64())
                self.count += batch.num_rows
                self.con.register("rows", pa.Table.from_batches([batch]).append_column("seq", seq))
                self.con.execute(
                    INSERT_RULE_ROWS,
                    {"rule_order": self.rule_order[rule_code], "rule_code": rule_code, "check": check},
                )
                self.con.unregister("rows")
        finally:
            self.con.unregister("measures")

    def number_into(self, table: str, columns: str) -> None:
        """A table `table` of `columns` (SQL over the findings' fields) for every finding, and its place in report
        order (`place`, from 1): the report's files read it `order by place`, a sort on one integer, instead of
        sorting the findings each. The order is that of the unmasked fields (REPORT_ORDER names the table's, not
        `columns`' aliases). Call it once the audited warehouse is closed: it may take REPORT_MEMORY_LIMIT."""
        self.flush()
        self.con.execute(f"set memory_limit = '{REPORT_MEMORY_LIMIT}'")
        self.con.execute(
            f"create or replace table {table} as "
            f"select row_number() over (order by {REPORT_ORDER}) as place, {columns} from findings"
        )

    def summary(self, fatal_rules: list[str], first_per_rule: int) -> Summary:
        """What the report says of the findings, computed here rather than one finding at a time in Python."""
        self.flush()
        amounts = dict(self.con.execute("select rule_code, sum(amount_at_issue) from findings group by 1").fetchall())
        first: dict[str, list[Finding]] = defaultdict(list)
        for rule_code, *values in self.con.execute(
            f"""select rule_code, {COLUMNS} from (
                    select *, row_number() over (partition by rule_order order by {REPORT_ORDER}) as place
                    from findings
                ) where place <= ? order by rule_order, place""",
            [first_per_rule],
        ).fetchall():
            first[rule_code].append(Finding(*values))
        totals = {attribute: self.totals_by(attribute, fatal_rules) for attribute in TOTALS}
        return Summary(count=self.count, amounts=amounts, first=dict(first), totals=totals)

    def totals_by(self, attribute: str, fatal_rules: list[str]) -> list[dict]:
        """Findings and money at issue (fatal and warning apart) per value of `attribute`, the largest sum first;
        integrity findings name tables, not money, and are left out."""
        rows = self.con.execute(
            f"""select coalesce(nullif("{attribute}", ''), '（未知）') as key, count(*) as findings,
                    coalesce(sum(amount_at_issue) filter (where fatal), 0) as fatal_amount,
                    coalesce(sum(amount_at_issue) filter (where not fatal), 0) as warning_amount
                from (select *, list_contains($fatal, rule_code) as fatal from findings)
                where record_type is distinct from 'table'
                group by key""",
            {"fatal": fatal_rules},
        ).fetchall()
        return [
            {attribute: key, "findings": count, "fatal_amount": f"{fatal:.2f}", "warning_amount": f"{warning:.2f}"}
            for key, count, fatal, warning in sorted(rows, key=lambda row: (-(row[2] + row[3]), row[0]))
        ]


@dataclass
class Summary:
    """The findings in the report's terms: how many, the amount at issue and the first records per rule, and the
    totals per value of each of TOTALS."""

    count: int
    amounts: dict[str, Decimal]
    first: dict[str, list[Finding]]
    totals: dict[str, list[dict]]


def duckdb_type(arrow_type: pa.DataType) -> str:
    if arrow_type == AMOUNT:
        return "decimal(38, 2)"
    return {pa.int64(): "bigint", pa.int32(): "integer", pa.string(): "varchar"}[arrow_type]

