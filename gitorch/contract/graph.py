"""Declarations of the planning graph and plan methods."""

from __future__ import annotations

from gitorch.contract.method import EFFECTS, READ, WRITE, Method
from gitorch.contract.params import (
    TITLE_LIMIT,
    Boolean,
    Choice,
    Integer,
    Json,
    Param,
    Text,
    TextList,
)
from gitorch.contract.schema import entity_schema, list_schema
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
from gitorch.model.kinds import CHECKLIST, EDGE, NODE, SNAPSHOT

_ID = Text(200)
_TITLE = Text(TITLE_LIMIT, nonempty=True)
_FILES = TextList(4096, 1000)
_NODE = entity_schema(NODE)
_EDGE = entity_schema(EDGE)
_SNAPSHOT = entity_schema(SNAPSHOT)
_G = "gitorch.domain.graph"
_P = "gitorch.domain.plans"
_COUNT = Integer(0, 1 << 40)

METHODS = (
    Method(
        "graph.node.create",
        "Create a planning-graph node (initiative, plan, slice, task, milestone).",
        (
            Param(
                "node_type", Choice(NodeType), "initiative, plan, slice, task or milestone.", True
            ),
            Param(
                "facet", Choice(Facet), "planning, implementation, test, review, docs, ops.", True
            ),
            Param("title", _TITLE, "What the node is, in a line.", True),
            Param("status", Choice(NodeStatus), "Where it starts.", default="todo"),
            Param("priority", Integer(), "Higher comes first.", default=0),
            Param("parent_id", _ID, "The parent node (id or unique prefix)."),
            Param("worktree_id", _ID, "The worktree the work happens in."),
            Param("owner_session_id", _ID, "The session that owns it."),
            Param("summary", Text(), "What is known so far."),
            Param("risk_level", Choice(RiskLevel), "low, medium or high."),
            Param("token_estimate", _COUNT, "Expected tokens."),
            Param("affected_files", _FILES, "Paths it changes."),
            Param("approval_state", Choice(ApprovalState), "Rollup approval.", default="none"),
        ),
        NODE.key,
        _NODE,
        f"{_G}:create_node",
        access=WRITE,
    ),
    Method(
        "graph.node.list",
        "Nodes matching every filter: priority first, then oldest first.",
        (
            Param("node_type", Choice(NodeType), "Only this type."),
            Param("facet", Choice(Facet), "Only this facet."),
            Param("status", Choice(NodeStatus), "Only this status."),
            Param("parent_id", _ID, "Only children of this node."),
        ),
        NODE.plural,
        list_schema(_NODE),
        f"{_G}:list_nodes",
        access=READ,
        columns=("id", "node_type", "status", "priority", "title"),
    ),
    Method(
        "graph.node.update",
        "Change a node: todo -> in_progress -> in_review -> done; blocked/cancelled from any open.",
        (
            Param("node_id", _ID, "The node (id or unique prefix).", True),
            Param("status", Choice(NodeStatus), "The new status."),
            Param("title", _TITLE, "A new title."),
            Param("priority", Integer(), "A new priority."),
            Param("owner_session_id", _ID, "The new owner session."),
            Param("summary", Text(), "What is known so far."),
            Param("risk_level", Choice(RiskLevel), "low, medium or high."),
            Param("token_estimate", _COUNT, "Expected tokens."),
            Param("affected_files", _FILES, "Paths it changes."),
            Param("worktree_id", _ID, "The worktree the work happens in."),
        ),
        NODE.key,
        _NODE,
        f"{_G}:update_node",
        access=WRITE,
    ),
    Method(
        "graph.edge.create",
        "Relate two nodes; contains/depends_on/blocks never form a cycle.",
        (
            Param("from_node_id", _ID, "The source node.", True),
            Param("to_node_id", _ID, "The target node.", True),
            Param("edge_type", Choice(EdgeType), "contains, depends_on, blocks, relates_to.", True),
        ),
        EDGE.key,
        _EDGE,
        f"{_G}:create_edge",
        access=WRITE,
    ),
    Method(
        "graph.checklist.upsert",
        "A node's checklist item, keyed by (node, order_no, facet): updated in place.",
        (
            Param("node_id", _ID, "The node.", True),
            Param("item_text", Text(TITLE_LIMIT, nonempty=True), "The item.", True),
            Param(
                "status", Choice(ChecklistStatus), "todo, done, skipped, blocked.", default="todo"
            ),
            Param("order_no", Integer(0, 1_000_000), "Its place in the list.", default=0),
            Param("facet", Choice(Facet), "Its facet.", default="implementation"),
        ),
        "checklist_item",
        entity_schema(CHECKLIST),
        f"{_G}:upsert_checklist",
        access=WRITE,
    ),
    Method(
        "graph.snapshot.create",
        "Record a snapshot of a node: progress, replan, rollup, handoff, checkpoint.",
        (
            Param("node_id", _ID, "The node.", True),
            Param("snapshot_type", Choice(SnapshotType), "Why it is taken.", True),
            Param("summary", Text(), "What it says."),
            Param("affected_files", _FILES, "Paths concerned."),
            Param("next_action", Text(), "What to do next."),
        ),
        SNAPSHOT.key,
        _SNAPSHOT,
        f"{_G}:create_snapshot",
        access=WRITE,
    ),
    Method(
        "graph.ready",
        "Work whose predecessors are done and no live session owns; --claim takes the top item.",
        (
            Param("claim", Boolean(), "Take the top item for the session, atomically."),
            Param("session_id", _ID, "The claiming session; default GIT_ORCH_SESSION."),
            Param("remote", Text(255), "With --claim: count it only once a push holds it."),
            Param("limit", Integer(0, 10_000), "At most this many.", default=20),
        ),
        "items",
        {"type": "array", "items": {"type": "object"}},
        f"{_G}:ready",
        access=EFFECTS,
        more_results=(("total", {"type": "integer"}), ("claimed", {"type": ["object", "null"]})),
        columns=("kind", "id", "priority", "title"),
        publishes=True,
    ),
    Method(
        "plan.bootstrap",
        "An initiative, its plan and the contains edge, in one commit.",
        (
            Param("initiative_title", _TITLE, "The initiative.", True),
            Param("plan_title", _TITLE, "Its plan.", True),
            Param("priority", Integer(), "Higher comes first.", default=0),
            Param("owner_session_id", _ID, "The session that owns them."),
            Param("summary", Text(), "What the initiative is for."),
        ),
        "initiative",
        _NODE,
        f"{_P}:bootstrap",
        access=WRITE,
        more_results=(("plan", _NODE), ("edge", _EDGE)),
    ),
    Method(
        "plan.slice.generate",
        "Slices under a plan, one per spec, with their depends_on edges: all or nothing.",
        (
            Param("plan_node_id", _ID, "The plan.", True),
            Param(
                "slice_specs",
                Json(),
                "A list of {title, facet?, priority?, summary?, risk_level?, token_estimate?, "
                "affected_files?, depends_on?: [title or index]}.",
                True,
            ),
            Param("owner_session_id", _ID, "The session that owns them."),
        ),
        "slices",
        list_schema(_NODE),
        f"{_P}:generate_slices",
        access=WRITE,
        more_results=(("edges", list_schema(_EDGE)),),
    ),
    Method(
        "plan.slice.replan",
        "A replan snapshot of a node, with the changes it names.",
        (
            Param("node_id", _ID, "The node.", True),
            Param("reason", Text(), "Why the plan changes.", True),
            Param("affected_files", _FILES, "Paths it now changes."),
            Param("next_action", Text(), "What to do next."),
        ),
        SNAPSHOT.key,
        _SNAPSHOT,
        f"{_P}:replan",
        access=WRITE,
        more_results=(("node", _NODE),),
    ),
    Method(
        "plan.rollup.preview",
        "A node's rollup over contains: counts, done ratio, tokens, files, checklists, blocked.",
        (Param("parent_node_id", _ID, "The node.", True),),
        "rollup",
        {"type": "object"},
        f"{_P}:preview",
        access=READ,
    ),
    Method(
        "plan.rollup.submit",
        "Ask for approval of a node's rollup: snapshot, approval pending, node in review.",
        (
            Param("node_id", _ID, "The node.", True),
            Param("summary", Text(), "What was done."),
            Param("affected_files", _FILES, "Paths concerned."),
            Param("next_action", Text(), "What to do next."),
        ),
        NODE.key,
        _NODE,
        f"{_P}:submit",
        access=WRITE,
        more_results=(("snapshot", _SNAPSHOT),),
    ),
    Method(
        "plan.rollup.approve",
        "Approve a pending rollup: the node is done.",
        (Param("node_id", _ID, "The node.", True),),
        NODE.key,
        _NODE,
        f"{_P}:approve",
        access=WRITE,
    ),
    Method(
        "plan.rollup.reject",
        "Reject a pending rollup: the node is blocked.",
        (Param("node_id", _ID, "The node.", True),),
        NODE.key,
        _NODE,
        f"{_P}:reject",
        access=WRITE,
    ),
)
