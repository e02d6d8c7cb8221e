"""The planning graph: nodes, edges, checklists, snapshots, and the ready work.

Nodes move through ``todo -> in_progress -> in_review -> done``, with
``blocked`` and ``cancelled`` reachable from any open status and
``in_review`` back to ``in_progress`` when changes are asked for. Edges of
``contains``, ``depends_on`` and ``blocks`` never form a cycle (the refusal
names it). ``graph.ready`` is the work an idle agent should take next; with
``claim`` it takes the top item in one transaction, so two agents never get
the same item.
"""

from __future__ import annotations

from gitorch.domain import entities, liveness, sessions
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
    TaskStatus,
)
from gitorch.model.errors import Conflict, InvalidParams, PreconditionFailed
from gitorch.model.kinds import CHECKLIST, EDGE, NODE, SESSION, SNAPSHOT, TASK
from gitorch.model.paths import normalise
from gitorch.store.state import Snapshot, Transaction

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

OPEN = frozenset(
    {NodeStatus.TODO, NodeStatus.IN_PROGRESS, NodeStatus.IN_REVIEW, NodeStatus.BLOCKED}
)
MOVES: dict[str, frozenset[str]] = {
    NodeStatus.TODO: frozenset({"in_progress", "blocked", "cancelled"}),
    NodeStatus.IN_PROGRESS: frozenset({"in_review", "done", "todo", "blocked", "cancelled"}),
    NodeStatus.IN_REVIEW: frozenset({"in_progress", "done", "blocked", "cancelled"}),
    NodeStatus.BLOCKED: frozenset({"todo", "in_progress", "cancelled"}),
    NodeStatus.DONE: frozenset(),
    NodeStatus.CANCELLED: frozenset(),
}
TITLE_LIMIT = 1000


def _files(files: list[str] | None) -> list[str]:
    return [normalise(f, "affected_files", prefix=True) for f in files or []]


def stage_node(ctx: Context, tx: Transaction, values: dict[str, Any]) -> dict[str, Any]:
    """Stage a new node; ``values`` hold graph.node.create's parameters."""
    parent = values.get("parent_id")
    if parent:
        values["parent_id"] = entities.find(tx, NODE, parent, "parent_id")["id"]
    values["owner_session_id"] = entities.resolve_optional(
        tx, SESSION, values.get("owner_session_id"), "owner_session_id"
    )
    values["affected_files"] = _files(values.get("affected_files"))
    return entities.create(ctx, tx, NODE, values)


def create_node(
    ctx: Context,
    tx: Transaction,
    *,
    node_type: NodeType,
    facet: Facet,
    title: str,
    status: NodeStatus = NodeStatus.TODO,
    priority: int = 0,
    parent_id: str | None = None,
    worktree_id: str | None = None,
    owner_session_id: str | None = None,
    summary: str | None = None,
    risk_level: RiskLevel | None = None,
    token_estimate: int | None = None,
    affected_files: list[str] | None = None,
    approval_state: ApprovalState = ApprovalState.NONE,
) -> dict[str, Any]:
    """Create a planning-graph node."""
    node = stage_node(
        ctx,
        tx,
        {
            "node_type": node_type.value,
            "facet": facet.value,
            "title": title,
            "status": status.value,
            "priority": priority,
            "parent_id": parent_id,
            "worktree_id": worktree_id,
            "owner_session_id": owner_session_id,
            "summary": summary,
            "risk_level": risk_level.value if risk_level else None,
            "token_estimate": token_estimate,
            "affected_files": affected_files,
            "approval_state": approval_state.value,
        },
    )
    return {"node": node}


def list_nodes(
    ctx: Context,
    view: Snapshot,
    *,
    node_type: NodeType | None = None,
    facet: Facet | None = None,
    status: NodeStatus | None = None,
    parent_id: str | None = None,
) -> dict[str, Any]:
    """Nodes matching every filter: priority first, then oldest first."""
    parent = entities.resolve_id(view, NODE, parent_id, "parent_id") if parent_id else None
    found = [
        doc
        for doc in entities.load_all(view, NODE)
        if (node_type is None or doc["node_type"] == node_type)
        and (facet is None or doc["facet"] == facet)
        and (status is None or doc["status"] == status)
        and (parent is None or doc["parent_id"] == parent)
    ]
    found.sort(key=lambda doc: (-doc["priority"], doc["created_at"], doc["id"]))
    return {"nodes": found}


def move(node: dict[str, Any], status: str) -> None:
    """Refuse a status move the node's life does not allow."""
    if status != node["status"] and status not in MOVES[NodeStatus(node["status"])]:
        raise PreconditionFailed(
            f"node {node['id']} is {node['status']}; it cannot move to {status}",
            {
                "id": node["id"],
                "from": node["status"],
                "to": status,
                "allowed": sorted(MOVES[NodeStatus(node["status"])]),
            },
        )


def update_node(
    ctx: Context,
    tx: Transaction,
    *,
    node_id: str,
    status: NodeStatus | None = None,
    title: str | None = None,
    priority: int | None = None,
    owner_session_id: str | None = None,
    summary: str | None = None,
    risk_level: RiskLevel | None = None,
    token_estimate: int | None = None,
    affected_files: list[str] | None = None,
    worktree_id: str | None = None,
) -> dict[str, Any]:
    """Change a node; status moves as the node's life allows."""
    node = entities.find(tx, NODE, node_id, "node_id")
    values: dict[str, Any] = {}
    if status is not None:
        move(node, status.value)
        values["status"] = status.value
    for key, value in (
        ("title", title),
        ("priority", priority),
        ("summary", summary),
        ("token_estimate", token_estimate),
        ("worktree_id", worktree_id),
    ):
        if value is not None:
            values[key] = value
    if risk_level is not None:
        values["risk_level"] = risk_level.value
    if owner_session_id is not None:
        values["owner_session_id"] = entities.resolve_optional(
            tx, SESSION, owner_session_id, "owner_session_id"
        )
    if affected_files is not None:
        values["affected_files"] = _files(affected_files)
    return {"node": entities.change(ctx, tx, NODE, node, values)}


def _before(edge: dict[str, Any]) -> tuple[str, str, str] | None:
    """An ordering edge as (graph, earlier, later): contains alone; waits together."""
    kind = edge["edge_type"]
    if kind == EdgeType.CONTAINS:
        return "contains", edge["from_node_id"], edge["to_node_id"]
    if kind == EdgeType.DEPENDS_ON:  # from depends on to: to comes first
        return "waits", edge["to_node_id"], edge["from_node_id"]
    if kind == EdgeType.BLOCKS:  # from blocks to: from comes first
        return "waits", edge["from_node_id"], edge["to_node_id"]
    return None


def _path(edges: list[dict[str, Any]], graph: str, start: str, goal: str) -> list[str] | None:
    """A path ``start -> ... -> goal`` in one ordering graph, or None."""
    succ: dict[str, list[str]] = {}
    for edge in edges:
        ordered = _before(edge)
        if ordered is not None and ordered[0] == graph:
            succ.setdefault(ordered[1], []).append(ordered[2])
    stack = [(start, [start])]
    seen = {start}
    while stack:
        at, path = stack.pop()
        if at == goal:
            return path
        for nxt in succ.get(at, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def stage_edge(
    ctx: Context, tx: Transaction, source: str, target: str, edge_type: EdgeType
) -> dict[str, Any]:
    """Stage an edge between existing nodes: never a duplicate, never a cycle."""
    a = entities.find(tx, NODE, source, "from_node_id")["id"]
    b = entities.find(tx, NODE, target, "to_node_id")["id"]
    if a == b:
        raise InvalidParams("an edge needs two different nodes", {"from": a, "to": b})
    edges = entities.load_all(tx, EDGE)
    for edge in edges:
        if (edge["from_node_id"], edge["to_node_id"], edge["edge_type"]) == (a, b, edge_type):
            raise Conflict(f"the edge {a} {edge_type} {b} exists ({edge['id']})", {"edge": edge})
    ordered = _before({"edge_type": edge_type, "from_node_id": a, "to_node_id": b})
    if ordered is not None:
        graph, earlier, later = ordered
        back = _path(edges, graph, later, earlier)
        if back is not None:
            cycle = [earlier, *back]
            raise Conflict(
                f"{a} {edge_type} {b} would close a cycle ({graph}): {' -> '.join(cycle)}",
                {"cycle": cycle, "edge_type": edge_type.value},
            )
    return entities.create(
        ctx, tx, EDGE, {"from_node_id": a, "to_node_id": b, "edge_type": edge_type.value}
    )


def create_edge(
    ctx: Context, tx: Transaction, *, from_node_id: str, to_node_id: str, edge_type: EdgeType
) -> dict[str, Any]:
    """Create an edge between two nodes."""
    return {"edge": stage_edge(ctx, tx, from_node_id, to_node_id, edge_type)}


def upsert_checklist(
    ctx: Context,
    tx: Transaction,
    *,
    node_id: str,
    item_text: str,
    status: ChecklistStatus = ChecklistStatus.TODO,
    order_no: int = 0,
    facet: Facet = Facet.IMPLEMENTATION,
) -> dict[str, Any]:
    """A checklist item keyed by (node, order_no, facet): updated in place when it exists."""
    node = entities.find(tx, NODE, node_id, "node_id")["id"]
    for item in entities.load_all(tx, CHECKLIST):
        if (item["node_id"], item["order_no"], item["facet"]) == (node, order_no, facet):
            values = {"item_text": item_text, "status": status.value}
            return {"checklist_item": entities.change(ctx, tx, CHECKLIST, item, values)}
    item = entities.create(
        ctx,
        tx,
        CHECKLIST,
        {
            "node_id": node,
            "item_text": item_text,
            "status": status.value,
            "order_no": order_no,
            "facet": facet.value,
        },
    )
    return {"checklist_item": item}


def stage_snapshot(
    ctx: Context, tx: Transaction, node: str, kind: SnapshotType, values: dict[str, Any]
) -> dict[str, Any]:
    """Stage a snapshot of an existing node."""
    return entities.create(
        ctx,
        tx,
        SNAPSHOT,
        {
            "node_id": node,
            "snapshot_type": kind.value,
            "summary": values.get("summary"),
            "affected_files": _files(values.get("affected_files")),
            "next_action": values.get("next_action"),
        },
    )


def create_snapshot(
    ctx: Context,
    tx: Transaction,
    *,
    node_id: str,
    snapshot_type: SnapshotType,
    summary: str | None = None,
    affected_files: list[str] | None = None,
    next_action: str | None = None,
) -> dict[str, Any]:
    """Record a snapshot of a node."""
    node = entities.find(tx, NODE, node_id, "node_id")["id"]
    values = {"summary": summary, "affected_files": affected_files, "next_action": next_action}
    return {"snapshot": stage_snapshot(ctx, tx, node, snapshot_type, values)}


def ready_items(ctx: Context, view: Snapshot) -> list[dict[str, Any]]:
    """Open work whose predecessors are all done and that no live session owns, best first.

    What does not depend on time (open, unblocked, best first) is derived
    once per state tree and cached under the trees' ids; who is live is
    applied on every call.
    """
    live = _live_sessions(ctx, view)
    return [item for item in _unblocked(ctx, view) if item["owner"] not in live]


def _unblocked(ctx: Context, view: Snapshot) -> list[dict[str, Any]]:
    root = view.root()
    key = "ready:" + ":".join(
        root[name].sha if name in root else "-" for name in ("nodes", "edges", "tasks")
    )
    pure = not getattr(view, "changed", False)  # a transaction with staged changes: compute
    if pure:
        cached = ctx.store.cache.shards([key])
        if key in cached:
            return cached[key]
    nodes = {doc["id"]: doc for doc in entities.load_all(view, NODE)}
    waiting: dict[str, list[str]] = {}
    for edge in entities.load_all(view, EDGE):
        if edge["edge_type"] == EdgeType.DEPENDS_ON:
            waiting.setdefault(edge["from_node_id"], []).append(edge["to_node_id"])
        elif edge["edge_type"] == EdgeType.BLOCKS:
            waiting.setdefault(edge["to_node_id"], []).append(edge["from_node_id"])
    items = []
    for node in nodes.values():
        if node["status"] != NodeStatus.TODO:
            continue
        before = waiting.get(node["id"], [])
        if all(nodes.get(p, {}).get("status") == NodeStatus.DONE for p in before):
            items.append(_item("node", node, node["owner_session_id"]))
    for task in entities.load_all(view, TASK):
        if task["status"] == TaskStatus.TODO and task["level"] != "step":
            items.append(_item("task", task, task["assignee_session"]))
    items.sort(key=lambda item: (-item["priority"], item["created_at"], item["id"]))
    if pure:
        ctx.store.cache.put_shards([(key, items)])
    return items


def _item(kind: str, doc: dict[str, Any], owner: str | None) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": doc["id"],
        "title": doc["title"],
        "priority": doc["priority"],
        "created_at": doc["created_at"],
        "owner": owner,
    }


def _live_sessions(ctx: Context, view: Snapshot) -> set[str]:
    live = liveness.last_seen(ctx)
    out = set()
    for doc in entities.load_all(view, SESSION):
        seen = liveness.seen_at(ctx, doc, live)
        if doc["status"] in sessions.OPEN and not sessions.suspended(ctx, doc, seen):
            out.add(doc["id"])
    return out


def ready(
    ctx: Context,
    *,
    claim: bool = False,
    session_id: str | None = None,
    limit: int = 20,
    remote: str | None = None,
) -> dict[str, Any]:
    """The ready work; with ``claim``, the session takes the top item atomically.

    With ``remote`` the API syncs before and after: a claim counts only if it
    is still this session's once the push went through.
    """
    del remote  # published by the API around this call (gitorch.domain.sync.publish)
    if not claim:
        items = ready_items(ctx, ctx.read())
        return {"items": items[:limit], "total": len(items), "claimed": None}

    def take(tx: Transaction) -> dict[str, Any]:
        me = sessions.require(tx, session_id, ctx.session, "session_id")
        items = ready_items(ctx, tx)
        if not items:
            return {"items": [], "total": 0, "claimed": None}
        top = items[0]
        if top["kind"] == "node":
            doc = entities.load(tx, NODE, top["id"])
            doc = entities.change(
                ctx,
                tx,
                NODE,
                doc,
                {"owner_session_id": me["id"], "status": NodeStatus.IN_PROGRESS.value},
            )
        else:
            doc = entities.load(tx, TASK, top["id"])
            doc = entities.change(
                ctx,
                tx,
                TASK,
                doc,
                {"assignee_session": me["id"], "status": TaskStatus.IN_PROGRESS.value},
            )
        return {
            "items": items[1 : limit + 1],
            "total": len(items) - 1,
            "claimed": {"kind": top["kind"], **doc},
        }

    return ctx.transact(take)
