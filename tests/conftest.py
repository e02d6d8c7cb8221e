"""Hermetic fixtures: a real repository per test, no real home, a set clock."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitorch.api import Orchestrator
from gitorch.model.clock import ManualClock
from tests.gitrepo import bin_dir, git, make_repo


@pytest.fixture(autouse=True)
def hermetic(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real home, git config or identity."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Agent")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "agent@example.com")
        monkeypatch.setenv(f"GIT_{role}_DATE", "2026-01-01T00:00:00Z")
    for name in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_ORCH_SESSION",
        "GIT_ORCH_DEBUG",
        "TMUX",
        "TMUX_PANE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", bin_dir() + os.pathsep + os.environ["PATH"])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh repository with one commit on main."""
    return make_repo(tmp_path / "repo")


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when a test moves it."""
    return ManualClock()


def counting_random() -> object:
    """Deterministic, distinct 5-byte values for ids."""
    counter = itertools.count(1)
    return lambda: next(counter).to_bytes(5, "big")


@pytest.fixture
def orch(repo: Path, clock: ManualClock) -> Iterator[Orchestrator]:
    """The Python API on ``repo``, with the set clock."""
    with Orchestrator(repo, clock=clock) as orchestrator:
        yield orchestrator


needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def tmux_socket(repo: Path) -> Iterator[str]:
    """A private tmux server for ``repo`` (its socket in local git config), killed afterwards."""
    directory = tempfile.mkdtemp(prefix="gt-", dir="/tmp")  # a socket path must stay short
    socket = os.path.join(directory, "s")
    git(repo, "config", "orch.tmux.socket", socket)
    try:
        yield socket
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(directory, ignore_errors=True)
