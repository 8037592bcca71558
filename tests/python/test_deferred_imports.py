"""The audit's deferred imports (audit/deferred_imports.py): what Great Expectations imports for an expectation the
audit never runs stays unloaded, and loads, once, as soon as anything uses it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from subsidy_warehouse.audit.deferred_imports import DeferredModule, defer_imports


def run_python(code: str) -> str:
    completed = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_the_audit_starts_without_scipy_stats_and_altair_and_they_load_when_used() -> None:
    shown = run_python(
        """
        import sys
        import subsidy_warehouse.audit.expectations
        from great_expectations import expectations as gxe
        loaded = [name for name in ("scipy.stats._stats_py", "altair.vegalite") if name in sys.modules]
        print(loaded, hasattr(gxe, "ExpectColumnKLDivergenceToBeLessThan"))
        from scipy import stats                       # the stand-in, as GX's module holds it
        print(round(stats.entropy([0.5, 0.5]), 6), type(sys.modules["scipy.stats"]).__name__)
        import scipy.stats.distributions              # a submodule of a deferred module
        import altair
        print(scipy.stats.distributions.norm.cdf(0), altair.Chart.__name__)
        """
    )
    assert shown.splitlines() == ["[] True", "0.693147 module", "0.5 Chart"]


@pytest.fixture()
def counting_module(tmp_path: Path, monkeypatch):
    """A module `deferred_probe` that counts in a file how often its code runs."""
    runs = tmp_path / "runs"
    (tmp_path / "deferred_probe.py").write_text(
        f"import pathlib, time\nrun_file = pathlib.Path({str(runs)!r})\n"
        "run_file.write_text(str(int(run_file.read_text() if run_file.exists() else 0) + 1))\n"
        "time.sleep(0.2)\nanswer = 42\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "deferred_probe", raising=False)
    yield runs
    sys.modules.pop("deferred_probe", None)


def test_a_deferred_module_runs_once_when_first_read_even_from_many_threads(counting_module: Path) -> None:
    defer_imports("deferred_probe")
    import deferred_probe

    assert isinstance(deferred_probe, DeferredModule) and not counting_module.exists()  # not run yet
    answers: list[int] = []
    threads = [threading.Thread(target=lambda: answers.append(deferred_probe.answer)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [42] * 8
    assert counting_module.read_text() == "1"
    assert sys.modules["deferred_probe"] is not deferred_probe and sys.modules["deferred_probe"].answer == 42


def test_modules_already_loaded_or_missing_are_left_alone(counting_module: Path) -> None:
    import deferred_probe

    defer_imports("deferred_probe", "no_such_module_anywhere")
    assert sys.modules["deferred_probe"] is deferred_probe and "no_such_module_anywhere" not in sys.modules
    assert counting_module.read_text() == "1"
