"""Canonical YAML: strings YAML likes to reinterpret come back exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gitorch.api import Orchestrator
from gitorch.model.codec import dump_doc, load_doc
from gitorch.model.errors import InvalidState
from tests.gitrepo import git

HOSTILE = [
    "yes",
    "No",
    "on",
    "null",
    "~",
    "0o17",
    "017",
    "0x1f",
    "1_000",
    "1e3",
    ".inf",
    "2026-01-01",
    "12:30:45",
    "!!python/object/apply:os.system ['echo pwned']",
    "- item",
    "key: value",
    "# not a comment",
    "&anchor *alias",
    "multi\nline\n  text\n",
    "trailing newlines\n\n",
    "  leading and trailing  ",
    "tab\there",
    "日本語 ✓ é",
    "emoji 🚀",
    "\"double\" and 'single'",
    "back\\slash",
    "\u2028line separator",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_document_round_trips_exactly(text: str) -> None:
    doc = {"title": text, "list": [text], "nested": {"k": text}}
    assert load_doc(dump_doc(doc), "x.yaml") == doc


def test_dumping_is_canonical() -> None:
    a = dump_doc({"b": 1, "a": {"d": [1, 2], "c": None}, "z": "日本"})
    b = dump_doc({"z": "日本", "a": {"c": None, "d": [1, 2]}, "b": 1})
    assert a == b
    assert a.decode("utf-8") == "a:\n  c: null\n  d:\n  - 1\n  - 2\nb: 1\nz: 日本\n"


def test_a_python_tag_is_never_constructed() -> None:
    with pytest.raises(InvalidState, match=r"x\.yaml"):
        load_doc(b"title: !!python/object/apply:os.system ['true']\n", "x.yaml")


def test_hostile_titles_survive_the_store_and_plain_git(orch: Orchestrator, repo: Path) -> None:
    for text in HOSTILE:
        task = orch.call("task.create", {"level": "case", "title": text, "summary": text})["task"]
        tid = task["id"]
        assert orch.call("task.get", {"task_id": tid})["task"]["title"] == text
        stored = yaml.safe_load(
            git(repo, "show", f"orchestrator/state:tasks/{tid[4:6]}/{tid}.yaml")
        )
        assert stored["title"] == text and stored["summary"] == text
    with Orchestrator(repo) as fresh:  # a reader with no cache parses the YAML itself
        titles = sorted(t["title"] for t in fresh.call("task.list")["tasks"])
    assert titles == sorted(HOSTILE)
