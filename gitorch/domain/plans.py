"""Plans: bootstrap, slices, replans, and rollups a person approves.

``plan.bootstrap`` and ``plan.slice.generate`` are each one commit, all or
nothing. A rollup is recursive over ``contains``; submitting it asks for
approval (``pending``, node ``in_review``); approve and reject act only on a
pending rollup.
"""

from __future__ import annotations

from gitorch.domain import entities, graph
from gitorch.domain.context import Context
from gitorch.model.enums import (
    ApprovalState,
    ChecklistStatus,
    EdgeType,
    Facet,
    NodeStatus,
    NodeType,
    RiskLevel,
    SnapshotType,
)
from gitorch.model.errors import InvalidParams, PreconditionFailed
from gitorch.model.kinds import CHECKLIST, EDGE, NODE
from gitorch.store.state import Snapshot, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any


def _node(
    ctx: Context, tx: Transaction, node_type: NodeType, title: str, **values: Any
) -> dict[str, Any]:
    return graph.stage_node(
        ctx,
        tx,
        {
            "node_type": node_type.value,
            "facet": values.get("facet", Facet.PLANNING.value),
            "title": title,
            "status": NodeStatus.TODO.value,
            "priority": values.get("priority", 0),
            "parent_id": values.get("parent_id"),
            "worktree_id": None,
            "owner_session_id": values.get("owner_session_id"),
            "summary": values.get("summary"),
            "risk_level": values.get("risk_level"),
            "token_estimate": values.get("token_estimate"),
            "affected_files": values.get("affected_files"),
            "approval_state": ApprovalState.NONE.value,
        },
    )


def bootstrap(
    ctx: Context,
    tx: Transaction,
    *,
    initiative_title: str,
    plan_title: str,
    priority: int = 0,
    owner_session_id: str | None = None,
    summary: str | None = None,
) -> dict[str, Any]:
    """An initiative, its plan, and the ``contains`` edge: one commit."""
    common = {"priority": priority, "owner_session_id": owner_session_id}
    initiative = _node(ctx, tx, NodeType.INITIATIVE, initiative_title, summary=summary, **common)
    plan = _node(ctx, tx, NodeType.PLAN, plan_title, parent_id=initiative["id"], **common)
    edge = graph.stage_edge(ctx, tx, initiative["id"], plan["id"], EdgeType.CONTAINS)
    return {"initiative": initiative, "plan": plan, "edge": edge}


_SPEC_KEYS = {
    "title",
    "facet",
    "priority",
    "summary",
    "risk_level",
    "token_estimate",
    "affected_files",
    "depends_on",
}


def generate_slices(
    ctx: Context,
    tx: Transaction,
    *,
    plan_node_id: str,
    slice_specs: list[Any],
    owner_session_id: str | None = None,
) -> dict[str, Any]:
    """One slice per spec under the plan, with ``contains`` and the ``depends_on`` named."""
    plan = entities.find(tx, NODE, plan_node_id, "plan_node_id")
    if not slice_specs:
        raise InvalidParams("slice_specs: give at least one slice", {"param": "slice_specs"})
    slices: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for index, spec in enumerate(slice_specs):
        where = f"slice_specs[{index}]"
        if not isinstance(spec, dict) or not isinstance(spec.get("title"), str):
            raise InvalidParams(f"{where}: a slice needs a title", {"param": where})
        unknown = sorted(set(spec) - _SPEC_KEYS)
        if unknown:
            raise InvalidParams(f"{where}: unknown keys {', '.join(unknown)}", {"param": where})
        facet = Facet(_enum(Facet, spec.get("facet", "implementation"), f"{where}.facet"))
        risk = spec.get("risk_level")
        node = _node(
            ctx,
            tx,
            NodeType.SLICE,
            spec["title"],
            parent_id=plan["id"],
            facet=facet.value,
            priority=_int(spec.get("priority", 0), f"{where}.priority"),
            summary=spec.get("summary"),
            risk_level=_enum(RiskLevel, risk, f"{where}.risk_level") if risk else None,
            token_estimate=spec.get("token_estimate"),
            affected_files=spec.get("affected_files"),
            owner_session_id=owner_session_id,
        )
        slices.append(node)
        edges.append(graph.stage_edge(ctx, tx, plan["id"], node["id"], EdgeType.CONTAINS))
    for index, spec in enumerate(slice_specs):
        for ref in spec.get("depends_on") or []:
            other = _slice_named(slices, slice_specs, ref, f"slice_specs[{index}].depends_on")
            edges.append(
                graph.stage_edge(ctx, tx, slices[index]["id"], other["id"], EdgeType.DEPENDS_ON)
            )
    return {"slices": slices, "edges": edges}


def _enum(enum: Any, value: Any, where: str) -> str:
    from gitorch.model.enums import parse_enum

    return str(parse_enum(enum, value, where).value)


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParams(f"{where}: expected an integer", {"param": where})
    return value


def _slice_named(
    slices: list[dict[str, Any]], specs: list[Any], ref: Any, where: str
) -> dict[str, Any]:
    if isinstance(ref, int) and not isinstance(ref, bool) and 0 <= ref < len(slices):
        return slices[ref]
    matches = [s for s, spec in zip(slices, specs, strict=True) if spec.get("title") == ref]
    if len(matches) != 1:
        raise InvalidParams(
            f"{where}: {ref!r} names no single slice of this batch (by title or index)",
            {"param": where, "value": ref},
        )
    return matches[0]


def replan(
    ctx: Context,
    tx: Transaction,
    *,
    node_id: str,
    reason: str,
    affected_files: list[str] | None = None,
    next_action: str | None = None,
) -> dict[str, Any]:
    """A ``replan`` snapshot of a node, with the changes it names."""
    node = entities.find(tx, NODE, node_id, "node_id")
    values: dict[str, Any] = {}
    if affected_files is not None:
        values["affected_files"] = graph._files(affected_files)
    node = entities.change(ctx, tx, NODE, node, values)
    shot = graph.stage_snapshot(
        ctx,
        tx,
        node["id"],
        SnapshotType.REPLAN,
        {"summary": reason, "affected_files": affected_files, "next_action": next_action},
    )
    return {"snapshot": shot, "node": node}


def _descendants(view: Snapshot, root: str) -> list[dict[str, Any]]:
    nodes = {doc["id"]: doc for doc in entities.load_all(view, NODE)}
    children: dict[str, list[str]] = {}
    for edge in entities.load_all(view, EDGE):
        if edge["edge_type"] == EdgeType.CONTAINS:
            children.setdefault(edge["from_node_id"], []).append(edge["to_node_id"])
    out, stack, seen = [], list(children.get(root, [])), {root}
    while stack:
        at = stack.pop()
        if at in seen or at not in nodes:
            continue
        seen.add(at)
        out.append(nodes[at])
        stack.extend(children.get(at, []))
    out.sort(key=lambda doc: (doc["created_at"], doc["id"]))
    return out


def preview(ctx: Context, view: Snapshot, *, parent_node_id: str) -> dict[str, Any]:
    """The rollup of a node: recursive over ``contains``."""
    node = entities.find(view, NODE, parent_node_id, "parent_node_id")
    below = _descendants(view, node["id"])
    by_status: dict[str, int] = {}
    by_type: dict[str, int] = {}
    files: set[str] = set()
    tokens = 0
    for doc in below:
        by_status[doc["status"]] = by_status.get(doc["status"], 0) + 1
        by_type[doc["node_type"]] = by_type.get(doc["node_type"], 0) + 1
        tokens += doc["token_estimate"] or 0
        files.update(doc["affected_files"])
    ids = {node["id"], *(doc["id"] for doc in below)}
    open_items = [
        item
        for item in entities.load_all(view, CHECKLIST)
        if item["node_id"] in ids
        and item["status"] in (ChecklistStatus.TODO, ChecklistStatus.BLOCKED)
    ]
    done = by_status.get(NodeStatus.DONE, 0)
    counted = len(below) - by_status.get(NodeStatus.CANCELLED, 0)
    return {
        "rollup": {
            "node_id": node["id"],
            "descendants": len(below),
            "by_status": dict(sorted(by_status.items())),
            "by_type": dict(sorted(by_type.items())),
            "done_ratio": round(done / counted, 4) if counted else 0.0,
            "token_estimate": tokens,
            "affected_files": sorted(files),
            "open_checklist_items": sorted(open_items, key=lambda i: (i["node_id"], i["order_no"])),
            "blocked": [doc["id"] for doc in below if doc["status"] == NodeStatus.BLOCKED],
        }
    }


def submit(
    ctx: Context,
    tx: Transaction,
    *,
    node_id: str,
    summary: str | None = None,
    affected_files: list[str] | None = None,
    next_action: str | None = None,
) -> dict[str, Any]:
    """Ask for approval of a rollup: snapshot ``rollup``, approval pending, node in review."""
    node = entities.find(tx, NODE, node_id, "node_id")
    if node["approval_state"] == ApprovalState.PENDING:
        raise PreconditionFailed(f"node {node['id']} already awaits approval", {"id": node["id"]})
    if node["status"] != NodeStatus.IN_REVIEW:
        graph.move(node, NodeStatus.IN_REVIEW.value)
    shot = graph.stage_snapshot(
        ctx,
        tx,
        node["id"],
        SnapshotType.ROLLUP,
        {"summary": summary, "affected_files": affected_files, "next_action": next_action},
    )
    node = entities.change(
        ctx,
        tx,
        NODE,
        node,
        {"approval_state": ApprovalState.PENDING.value, "status": NodeStatus.IN_REVIEW.value},
    )
    return {"node": node, "snapshot": shot}


def _decide(ctx: Context, tx: Transaction, node_id: str, approve: bool) -> dict[str, Any]:
    node = entities.find(tx, NODE, node_id, "node_id")
    if node["approval_state"] != ApprovalState.PENDING:
        raise PreconditionFailed(
            f"node {node['id']} has no pending rollup ({node['approval_state']}); "
            "submit one first (plan.rollup.submit)",
            {"id": node["id"], "approval_state": node["approval_state"]},
        )
    values = (
        {"approval_state": ApprovalState.APPROVED.value, "status": NodeStatus.DONE.value}
        if approve
        else {"approval_state": ApprovalState.REJECTED.value, "status": NodeStatus.BLOCKED.value}
    )
    return {"node": entities.change(ctx, tx, NODE, node, values)}


def approve(ctx: Context, tx: Transaction, *, node_id: str) -> dict[str, Any]:
    """Approve a pending rollup: the node is done."""
    return _decide(ctx, tx, node_id, True)


def reject(ctx: Context, tx: Transaction, *, node_id: str) -> dict[str, Any]:
    """Reject a pending rollup: the node is blocked until replanned."""
    return _decide(ctx, tx, node_id, False)
