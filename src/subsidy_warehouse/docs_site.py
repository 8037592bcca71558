"""`subsidy docs build|serve`: dbt's documentation site for the project, as one HTML file that works offline.

`dbt docs generate --static` (in process, read-only on a built warehouse, so that the catalog has every
column's type) writes one index.html holding the manifest and the catalog: every model, column, test, seed
and source, and the lineage from the raw files to each dashboard page (the exposures). dbt's page carries
a usage tracker (Snowplow, loaded from a CDN, only when the project sends usage statistics, which it does
not); the tracker is cut out all the same, so that the file makes no outside request whatever its settings.
Links in the text (to dbt's own documentation) stay links: they are followed only when clicked.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import progress
from .audit.dbt_checks import READ_ONLY_TARGET
from .dashboards import QuietHandler, serve_folder
from .dbt_runner import run_dbt
from .errors import UserFacingError
from .paths import output_folder
from .query import open_read_only

# What dbt's page would fetch or send by itself, each replaced by something inert.
TRACKING = (
    # the tracker's switch: never turned on, whatever the manifest says
    (re.compile(r"!0===e\.track&&r\.turn_on_tracking\(\)"), "!1"),
    # the tracker's script (a CDN) and its collector
    (re.compile(r"(?:https?:)?//[a-z0-9]+\.cloudfront\.net/[0-9.]+/sp\.js"), ""),
    (re.compile(r"fishtownanalytics\.sinter-collect\.com"), ""),
    (re.compile(r"https://fuzzed\.getdbt\.com/"), ""),
)
# Anything the page could load by itself from elsewhere: a src=, an @import or url() of an http(s) address.
EXTERNAL_LOAD = re.compile(r"""(?:src\s*=\s*["']|@import\s+["']?|url\(\s*["']?)(?:https?:)?//""", re.IGNORECASE)


@dataclass(frozen=True)
class DocsSite:
    index: Path
    seconds: float
    size_bytes: int


def offline_html(html: str) -> str:
    """dbt's static page without its tracker; raises RuntimeError if it would still load something."""
    for pattern, replacement in TRACKING:
        html = pattern.sub(replacement, html)
    found = EXTERNAL_LOAD.search(html)
    if found:
        raise RuntimeError(f"dbt's docs page loads from outside: {html[found.start() : found.start() + 120]!r}")
    return html


def build_docs(warehouse: Path, out: Path) -> DocsSite:
    """Write the documentation site of the project, as built in `warehouse`, to out/index.html."""
    started = time.perf_counter()
    warehouse = warehouse.resolve()
    open_read_only(warehouse).close()  # a missing or unreadable warehouse is one sentence
    output_folder(out, "the documentation site")
    progress.current().step("dbt docs generate --static（模型、字段、测试、血缘）")
    with tempfile.TemporaryDirectory(prefix="subsidy-docs-") as scratch:
        page = Path(scratch) / "static_index.html"
        run = run_dbt(
            ["docs", "generate", "--static"],
            warehouse,
            Path(scratch) / "logs",
            target=READ_ONLY_TARGET,
            copy_out={"static_index.html": page},
        )
        if not run.success or not page.is_file():
            raise UserFacingError(f"dbt could not generate the documentation: {run.error or 'no page was written'}.")
        progress.current().step("去除外部请求 strip outside requests")
        index = out / "index.html"
        index.write_text(offline_html(page.read_text(encoding="utf-8")), encoding="utf-8")
    return DocsSite(index, time.perf_counter() - started, index.stat().st_size)


def serve_docs(folder: Path, port: int, host: str = "127.0.0.1") -> None:
    if not (folder / "index.html").is_file():
        raise UserFacingError(f"No documentation site in {folder}; run `subsidy docs build` first.")
    serve_folder(folder, QuietHandler, port, host, "Docs")
