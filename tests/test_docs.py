"""The README and help stay honest: generated from the registry, checked here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gitorch.contract import reference
from gitorch.contract.registry import METHODS
from gitorch.surfaces.helptext import method_text, overview

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_method_reference_in_the_readme_is_current() -> None:
    assert reference.update(README) == README, (
        "README.md is behind the registry: run python -m gitorch.contract.reference README.md"
    )


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_and_parameter_is_explained(name: str) -> None:
    method = METHODS[name]
    assert method.summary.strip()
    assert all(param.help.strip() for param in method.params)
    assert f"### `{name}`" in README
    assert name in overview()
    assert all(param.option in method_text(method) for param in method.params)


def test_the_quick_start_commands_exist() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^bash (\S+)", quick, flags=re.MULTILINE)
    assert commands == ["examples/demo.sh", ".ci/test"]
    assert all((ROOT / command).is_file() for command in commands)
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash .ci/test" in ci  # CI runs the README's test command
