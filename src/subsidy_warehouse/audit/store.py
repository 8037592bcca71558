"""The findings of a running audit, kept on disk instead of as Python objects, and read back in report order.

At 10M applications an audit finds about 1.8M failing records; held as Python objects (and copied for the
report, the masking and the files) they took most of a 16.7 GB peak. Here they go into a DuckDB file in a
private temporary folder (owner-only, deleted when the audit ends: the records are not masked yet, because
the report orders them by their unmasked keys), a batch at a time, and come back sorted in batches, so that
memory stays bounded whatever the number of findings: DuckDB sorts them within STORE_MEMORY_LIMIT and spills
the rest to that folder.

The order is the one the report has always used: rule (catalogue order), check, record type, record id, and
for equal keys the order the findings were added (a stable sort), which `seq` records.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from .model import FINDING_COLUMNS, Finding

STORE_MEMORY_LIMIT = "512MB"
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

    def batches(self) -> Iterator[list[Finding]]:
        """Every finding, in report order, a batch at a time."""
        self.flush()
        cursor = self.con.execute(
            f"select {COLUMNS} from findings order by rule_order, \"check\", record_type, record_id, seq"
        )
        while rows := cursor.fetchmany(BATCH_ROWS):
            yield [Finding(*row) for row in rows]


def duckdb_type(arrow_type: pa.DataType) -> str:
    if arrow_type == AMOUNT:
        return "decimal(38, 2)"
    return {pa.int64(): "bigint", pa.int32(): "integer", pa.string(): "varchar"}[arrow_type]

