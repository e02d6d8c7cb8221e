"""The planning graph: plans, rollups with approval, cycles refused, ready work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gitorch.api import Orchestrator
from gitorch.model.errors import Conflict, InvalidParams, PreconditionFailed
from tests.gitrepo import git

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def node(orch: Orchestrator, title: str, **more: Any) -> str:
    params = {"node_type": "task", "facet": "implementation", "title": title, **more}
    node_id: str = orch.call("graph.node.create", params)["node"]["id"]
    return node_id


def commits(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "orchestrator/state"))


def test_a_three_level_plan_is_built_rolled_up_submitted_and_approved(orch: Orchestrator) -> None:
    boot = orch.call("plan.bootstrap", {"initiative_title": "Login", "plan_title": "Plan A"})
    plan = boot["plan"]["id"]
    assert boot["edge"]["edge_type"] == "contains"
    made = orch.call(
        "plan.slice.generate",
        {
            "plan_node_id": plan,
            "slice_specs": [
                {"title": "schema", "token_estimate": 100, "affected_files": ["db/"]},
                {"title": "api", "depends_on": ["schema"], "token_estimate": 200},
                {"title": "ui", "depends_on": [1], "facet": "Test"},
            ],
        },
    )
    schema, api, ui = (s["id"] for s in made["slices"])
    assert ui and [e["edge_type"] for e in made["edges"]].count("depends_on") == 2
    leaf = node(orch, "migration", parent_id=schema)
    orch.call(
        "graph.edge.create", {"from_node_id": schema, "to_node_id": leaf, "edge_type": "contains"}
    )
    orch.call("graph.checklist.upsert", {"node_id": api, "item_text": "docs", "order_no": 1})
    for done in (schema, leaf):
        orch.call("graph.node.update", {"node_id": done, "status": "in_progress"})
        orch.call("graph.node.update", {"node_id": done, "status": "done"})
    rollup = orch.call("plan.rollup.preview", {"parent_node_id": boot["initiative"]["id"]})[
        "rollup"
    ]
    assert rollup["descendants"] == 5  # plan, three slices, the leaf
    assert rollup["by_status"] == {"done": 2, "todo": 3}
    assert rollup["token_estimate"] == 300
    assert rollup["affected_files"] == ["db"]
    assert [i["item_text"] for i in rollup["open_checklist_items"]] == ["docs"]
    with pytest.raises(PreconditionFailed):
        orch.call("plan.rollup.approve", {"node_id": plan})
    orch.call("graph.node.update", {"node_id": plan, "status": "in_progress"})
    submitted = orch.call("plan.rollup.submit", {"node_id": plan, "summary": "ready"})
    assert submitted["node"]["approval_state"] == "pending"
    assert submitted["node"]["status"] == "in_review"
    approved = orch.call("plan.rollup.approve", {"node_id": plan})["node"]
    assert (approved["approval_state"], approved["status"]) == ("approved", "done")
    with pytest.raises(PreconditionFailed):
        orch.call("plan.rollup.reject", {"node_id": plan})


def test_a_cycle_of_three_depends_on_edges_is_refused_and_named(orch: Orchestrator) -> None:
    a, b, c = (node(orch, t) for t in "abc")
    orch.call("graph.edge.create", {"from_node_id": a, "to_node_id": b, "edge_type": "depends_on"})
    orch.call("graph.edge.create", {"from_node_id": b, "to_node_id": c, "edge_type": "depends_on"})
    with pytest.raises(Conflict) as info:
        orch.call(
            "graph.edge.create", {"from_node_id": c, "to_node_id": a, "edge_type": "depends_on"}
        )
    assert set(info.value.details["cycle"]) == {a, b, c}
    with pytest.raises(Conflict):  # a blocks-edge closing the same wait is a cycle too
        orch.call("graph.edge.create", {"from_node_id": a, "to_node_id": c, "edge_type": "blocks"})
    with pytest.raises(Conflict, match="exists"):
        orch.call(
            "graph.edge.create", {"from_node_id": a, "to_node_id": b, "edge_type": "depends_on"}
        )
    orch.call("graph.edge.create", {"from_node_id": c, "to_node_id": a, "edge_type": "relates_to"})


def test_a_slice_batch_with_one_bad_spec_creates_nothing(orch: Orchestrator, repo: Path) -> None:
    plan = orch.call("plan.bootstrap", {"initiative_title": "i", "plan_title": "p"})["plan"]["id"]
    before = commits(repo)
    for bad in (
        {"title": "b", "facet": "cooking"},
        {"nope": 1},
        {"title": "c", "depends_on": ["zz"]},
    ):
        with pytest.raises(InvalidParams):
            orch.call(
                "plan.slice.generate", {"plan_node_id": plan, "slice_specs": [{"title": "ok"}, bad]}
            )
    assert commits(repo) == before
    assert orch.call("graph.node.list", {"node_type": "slice"})["nodes"] == []


def test_checklist_upsert_on_an_existing_key_updates_in_place(orch: Orchestrator) -> None:
    n = node(orch, "n")
    first = orch.call("graph.checklist.upsert", {"node_id": n, "item_text": "write", "order_no": 2})
    again = orch.call(
        "graph.checklist.upsert",
        {"node_id": n, "item_text": "write tests", "order_no": 2, "status": "done"},
    )
    assert again["checklist_item"]["id"] == first["checklist_item"]["id"]
    assert again["checklist_item"]["version"] == 2
    other_facet = orch.call(
        "graph.checklist.upsert", {"node_id": n, "item_text": "x", "order_no": 2, "facet": "test"}
    )
    assert other_facet["checklist_item"]["id"] != first["checklist_item"]["id"]


def test_node_status_moves_are_the_written_ones(orch: Orchestrator) -> None:
    n = node(orch, "n")
    with pytest.raises(PreconditionFailed):
        orch.call("graph.node.update", {"node_id": n, "status": "done"})
    for status in ("in_progress", "in_review", "in_progress", "done"):
        orch.call("graph.node.update", {"node_id": n, "status": status})
    with pytest.raises(PreconditionFailed):
        orch.call("graph.node.update", {"node_id": n, "status": "todo"})


def naive_ready(nodes: dict[str, str], edges: list[tuple[str, str, str]]) -> set[str]:
    """Ready nodes, recomputed the obvious way: todo, every predecessor done."""
    ready = set()
    for name, status in nodes.items():
        if status != "todo":
            continue
        before = [b for a, b, t in edges if t == "depends_on" and a == name]
        before += [a for a, b, t in edges if t == "blocks" and b == name]
        if all(nodes[p] == "done" for p in before):
            ready.add(name)
    return ready


@settings(max_examples=15, deadline=None)
@given(
    statuses=st.lists(
        st.sampled_from(["todo", "done", "blocked", "in_progress"]), min_size=3, max_size=7
    ),
    pairs=st.lists(
        st.tuples(
            st.integers(0, 6),
            st.integers(0, 6),
            st.sampled_from(["depends_on", "blocks", "relates_to"]),
        ),
        max_size=10,
    ),
)
def test_ready_work_matches_a_naive_recomputation(
    tmp_path_factory: pytest.TempPathFactory, statuses: list[str], pairs: list[tuple[int, int, str]]
) -> None:
    from tests.gitrepo import make_repo

    repo = make_repo(tmp_path_factory.mktemp("ready") / "repo")
    with Orchestrator(repo) as orch:
        ids = [node(orch, f"n{i}", status=s) for i, s in enumerate(statuses)]
        edges = []
        for a, b, kind in pairs:
            if a < len(ids) and b < len(ids) and a != b:
                try:
                    orch.call(
                        "graph.edge.create",
                        {"from_node_id": ids[a], "to_node_id": ids[b], "edge_type": kind},
                    )
                    edges.append((ids[a], ids[b], kind))
                except Conflict:
                    pass  # a duplicate or a cycle: refused, as it should be
        got = {
            i["id"]
            for i in orch.call("graph.ready", {"limit": 100})["items"]
            if i["kind"] == "node"
        }
        warm = orch.call("graph.ready", {"limit": 100})  # from the view cached for this tree
        with Orchestrator(repo, cache=False) as uncached:
            assert uncached.call("graph.ready", {"limit": 100}) == warm
    assert got == naive_ready(dict(zip(ids, statuses, strict=True)), edges)


CLAIMER = """
import sys
from gitorch.api import Orchestrator
with Orchestrator(sys.argv[1]) as orch:
    out = orch.call("graph.ready", {"claim": True, "session_id": sys.argv[2]})
    print(out["claimed"]["id"] if out["claimed"] else "-")
"""


@pytest.mark.slow
def test_eight_agents_claiming_at_once_never_share_an_item(repo: Path) -> None:
    with Orchestrator(repo) as orch:
        for i in range(6):
            node(orch, f"work {i}", priority=i % 3)
        agents = [
            orch.call("session.open", {"intent": "resume_work"})["session"]["id"] for _ in range(8)
        ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(repo), a], stdout=subprocess.PIPE, text=True
        )
        for a in agents
    ]
    claimed = [p.communicate()[0].strip() for p in procs]
    taken = [c for c in claimed if c != "-"]
    assert len(taken) == len(set(taken)) == 6
    assert claimed.count("-") == 2
