"""A throwaway PostgreSQL 15 server for the tests, from the image's binaries (/usr/lib/postgresql/15/bin).

initdb refuses to run as root, so as root the server runs as the `postgres` user, in a temporary folder
that user owns; it listens on 127.0.0.1 only, on a free port, and is stopped and removed at the end.
`python tests/python/pg_server.py` starts one by hand and prints its DSN (stop it with Ctrl-C or kill).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

PG_BIN = Path(os.environ.get("SUBSIDY_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "subsidy_admin"
PASSWORD = "subsidy-test-only"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_or_say_why(args: list[str], log: Path | None = None) -> None:
    """Run a server command; if it fails, raise with what it printed and the end of the server's `log` (the
    folder holding both is removed afterwards)."""
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        logged = log.read_text(errors="replace")[-4000:] if log is not None and log.exists() else ""
        raise RuntimeError(f"{' '.join(args)} exited with {done.returncode}:\n{done.stdout}{done.stderr}{logged}")


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A running PostgreSQL server; yields the DSN of a superuser on database `subsidy`."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(f"PostgreSQL binaries are missing in {PG_BIN}: apt-get install postgresql-15")
    folder = Path(tempfile.mkdtemp(prefix="subsidy-pg-"))
    data = folder / "data"
    password_file = folder / "password"
    password_file.write_text(PASSWORD)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(password_file, "postgres")
    port = free_port()
    try:
        run_or_say_why(
            _as_server_user([
                str(PG_BIN / "initdb"), "-D", str(data), "-U", SUPERUSER, "--pwfile", str(password_file),
                "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8",
            ])
        )  # fmt: skip
        run_or_say_why(
            _as_server_user([
                str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "start",
                "-o", f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off",
            ]),
            log=folder / "server.log",
        )  # fmt: skip
        dsn = f"postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.1:{port}/postgres"
        import psycopg2

        with contextlib.closing(psycopg2.connect(dsn)) as con:
            con.autocommit = True
            con.cursor().execute("create database subsidy")
        yield f"postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.1:{port}/subsidy"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]))
        shutil.rmtree(folder, ignore_errors=True)


def new_database(dsn: str, name: str, template: str | None = None) -> str:
    """Create database `name` on the server of `dsn`, empty or as a copy of database `template` (which no one
    may be connected to); returns its DSN."""
    import psycopg2

    with contextlib.closing(psycopg2.connect(dsn)) as con:
        con.autocommit = True
        con.cursor().execute(f'create database "{name}"' + (f' template "{template}"' if template else ""))
    return dsn.rsplit("/", 1)[0] + f"/{name}"


if __name__ == "__main__":
    import signal
    import time

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill PID` stops the server too

    with postgres_server() as server_dsn:
        print(server_dsn, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
