"""Shared helpers: the repository's test data, the CLI binary, and CI's no-skip rule."""
import os
import pathlib
import shutil

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
IN_CI = os.environ.get("CI") == "true"


def need(condition, why):
    """Skip locally when something optional is missing; under CI=true it is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(why + " (CI=true: nothing may be skipped)")
    pytest.skip(why)


@pytest.fixture(scope="session")
def cli():
    """The srmscope command-line binary built by cargo (SRMSCOPE_CLI overrides)."""
    env = os.environ.get("SRMSCOPE_CLI")
    candidates = [env] if env else [str(REPO / "target" / p / "srmscope")
                                    for p in ("release", "debug")]
    candidates.append(shutil.which("srmscope"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    need(False, "the srmscope binary is not built (cargo build, or set SRMSCOPE_CLI)")
