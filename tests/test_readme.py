"""Every command the README shows works as written: its shell blocks, run in order."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import needs_tmux
from tests.gitrepo import make_repo

ROOT = Path(__file__).resolve().parent.parent
# run from a checkout and with the network; the quick start has its own tests
NOT_HERE = ("Quick start", "Install for real use", "Benchmark")


def blocks() -> list[tuple[str, str]]:
    """The ``sh`` blocks of the README before the generated reference, with their section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").split("## Method reference")[0]
    found = []
    section = ""
    for part in re.split(r"^(## .*)$", text, flags=re.MULTILINE):
        if part.startswith("## "):
            section = part[3:].strip()
            continue
        for block in re.findall(r"^```sh\n(.*?)^```", part, flags=re.MULTILINE | re.DOTALL):
            found.append((section, block))
    return found


def test_the_readme_has_runnable_blocks_in_every_section_that_shows_commands() -> None:
    sections = {section for section, _ in blocks()}
    assert {"The agent loop", "Working across machines", "Agents in tmux: threads"} <= sections


@needs_tmux
@pytest.mark.slow
def test_every_readme_shell_block_runs_as_written(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    script = ["set -euo pipefail", f"cd {repo}"]
    for section, block in blocks():
        if section in NOT_HERE:
            continue
        script += [f"echo '### {section}'", block]
    tmux_dir = tmp_path / "tmux"
    tmux_dir.mkdir()
    env = {**os.environ, "TMUX_TMPDIR": str(tmux_dir)}
    try:
        done = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
    finally:
        socket = tmux_dir / f"tmux-{os.getuid()}" / "default"
        if shutil.which("tmux"):
            subprocess.run(
                ["tmux", "-S", str(socket), "kill-server"], capture_output=True, check=False
            )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "### Reading the state with plain git" in done.stdout
