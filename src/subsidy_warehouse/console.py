"""`subsidy sql`: Harlequin, a SQL IDE in the terminal, on the warehouse with the guarantees of `subsidy query`.

Harlequin's DuckDB adapter would open the file itself, with extensions installable and every file of the
machine readable. Here it gets a connection opened by query.open_read_only instead: read-only, no external
access (no other file, no URL, no COPY ... TO, no extension installed or loaded) and the configuration locked,
so no statement typed in the console can undo any of it. No initialisation script (~/.duckdbrc) runs, and
the console keeps no query history on disk. Harlequin's data exporter (Ctrl+E), which writes results to any
file from Python outside DuckDB's sandbox and without the spreadsheet safeguards, is turned off: files for
people come from `subsidy export` and `subsidy query --format csv`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from harlequin.exception import HarlequinConnectionError
from harlequin_duckdb import DuckDbAdapter
from harlequin_duckdb.adapter import DuckDbConnection

from .query import open_read_only


class SandboxedDuckDbAdapter(DuckDbAdapter):
    """Harlequin's DuckDB adapter on a connection opened through the warehouse sandbox."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
        super().__init__(conn_str=(str(warehouse),), no_init=True, read_only=True)
        self.connection = connection
        self.warehouse = warehouse

    def connect(self) -> DuckDbConnection:
        try:
            self.connection.execute("select 1").fetchall()
        except duckdb.Error as exc:  # closed meanwhile
            raise HarlequinConnectionError(str(exc), title="The warehouse cannot be read.") from exc
        self.ADAPTER_DRIVER_DETAILS = f"Warehouse {self.warehouse} (read-only, offline)"
        return DuckDbConnection(
            conn=self.connection,
            init_message=f"只读、离线 Read-only and offline: {self.warehouse}",
        )


EXPORT_REFUSED = "导出已关闭 Export is off here: use `subsidy export` or `subsidy query --format csv|json`."


def console_app_class() -> type:
    """Harlequin with its data exporter turned off (imported when the console opens: Textual is slow to load)."""
    import harlequin.app
    from harlequin import Harlequin

    class WarehouseConsole(Harlequin):
        # Textual finds stylesheets beside the module that defines the app class: point at Harlequin's own
        CSS_PATH = [Path(harlequin.app.__file__).parent / name for name in Harlequin.CSS_PATH]

        def action_export(self) -> None:
            self.notify(EXPORT_REFUSED, severity="warning")

    return WarehouseConsole


def open_console(warehouse: Path) -> None:
    """Run Harlequin on `warehouse` until the user quits; raises UserFacingError when it cannot be opened."""
    warehouse = warehouse.resolve()
    connection = open_read_only(warehouse)  # a missing or locked warehouse is one sentence, before the screen
    try:
        app = console_app_class()(
            adapter=SandboxedDuckDbAdapter(connection, warehouse),
            adapter_name="duckdb",
            connection_hash=f"subsidy-sql:{warehouse}",
            record_history=False,
            no_download_tzdata=True,
        )
        app.run()
    finally:
        connection.close()
