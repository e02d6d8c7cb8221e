"""``--format table``: results laid out for people."""

from __future__ import annotations

from gitorch.contract.method import Method

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any

_WIDTH = 60


def safe_text(text: str) -> str:
    """``text`` with terminal control characters shown as escapes, never sent raw.

    A title is anyone's text: an escape sequence in it must not move the
    cursor, recolour or retitle the terminal of the person reading a table.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    text = safe_text(" ".join(text.split()))
    return text if len(text) <= _WIDTH else text[: _WIDTH - 1] + "…"


def table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """Rows as aligned columns under a header."""
    cells = [[column.upper() for column in columns]]
    cells += [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in cells
    )


def render(method: Method, result: dict[str, Any], color: bool = False) -> str:
    """A method's result as text."""
    value = result.get(method.result)
    if method.name == "status" and isinstance(value, dict):
        return board(value, color)
    if isinstance(value, list):
        rows = [row for row in value if isinstance(row, dict)]
        columns = method.columns or tuple(rows[0]) if rows else method.columns
        footer = ""
        if isinstance(result.get("total"), int) and result["total"] != len(rows):
            footer = f"({len(rows)} of {result['total']})\n"
        return table(rows, tuple(columns)) + footer
    if isinstance(value, dict):
        width = max((len(key) for key in value), default=0)
        return "".join(f"{key.ljust(width)}  {_cell(item)}\n" for key, item in value.items())
    return f"{value}\n"


def board(status: dict[str, Any], color: bool = False) -> str:
    """``git orch status`` for people (``color``: on a terminal)."""
    lines = [
        f"state {status['state_ref']}  version {status['state_version']}"
        + (f"  at {status['commit'][:12]}" if status.get("commit") else "  (empty)"),
        "",
    ]
    rewound = status.get("rewound")
    if rewound:
        lines += [
            f"warning: the state was rewound to version {rewound['tip_version']} after it had "
            f"reached {rewound['highest_version']} (see git reflog orchestrator/state)",
            "",
        ]
    counts: dict[str, Any] = status.get("counts", {})
    if counts:
        rows = [
            {
                "kind": kind,
                "total": entry["total"],
                "by status": ", ".join(f"{key} {n}" for key, n in entry["by_status"].items()),
            }
            for kind, entry in counts.items()
        ]
        lines.append(table(rows, ("kind", "total", "by status")).rstrip("\n"))
    else:
        lines.append("nothing recorded yet: try  git orch task.create --level epic --title '...'")
    lines += _sections(status, color)
    changes = status.get("recent_changes", [])
    if changes:
        lines += ["", "recent changes:"]
        lines += [f"  {c['at'] or '?'}  {c['commit'][:10]}  {_cell(c['subject'])}" for c in changes]
    if status.get("protected_branch"):
        lines += ["", f"protected branch: {safe_text(str(status['protected_branch']))}"]
    return "\n".join(lines) + "\n"


_COLORS = {
    "live": "32", "idle": "32", "running": "36", "merged": "32", "done": "32",
    "suspended": "33", "handed off": "33", "queued": "33", "interrupted": "33",
    "exited": "31", "failed": "31", "stopped": "90",
}  # fmt: skip


def _paint(word: str, color: bool) -> str:
    code = _COLORS.get(word)
    return f"\x1b[{code}m{word}\x1b[0m" if color and code else word


def _sections(status: dict[str, Any], color: bool) -> list[str]:
    """The board's sections: who works, on what, holding what, landing what."""
    out: list[str] = []

    def section(title: str, rows: list[str]) -> None:
        if rows:
            out.extend(["", f"{title}:", *rows])

    section(
        "sessions",
        [f"  {s['id']}  {_paint(s['state'], color):<10}  {_cell(s.get('role') or '-')}"
         for s in status.get("sessions", [])],
    )  # fmt: skip
    section(
        "agents",
        [f"  {t['id']}  {_paint(t['status'], color):<11}  {_cell(t['role'])}  of {t['session']}"
         + (f"  {_cell(t['title'])}" if t.get("title") else "")
         for t in status.get("threads", [])],
    )  # fmt: skip
    lease = status.get("main_lease") or {}
    leases = [
        f"  {lk['path']}  {lk['owner']}  epoch {lk['epoch']}  until {lk['expires_at']}"
        for lk in status.get("leases", [])
    ]
    if lease.get("in_force"):
        leases.append(
            f"  main-merge lease  {lease['holder_session']}  epoch {lease['epoch']}"
            f"  until {lease['expires_at']}"
        )
    section("leases", leases)
    section(
        "merge queue",
        [f"  {n}. {e['id']}  {_paint(e['status'], color)}  {_cell(e['branch'])}"
         for n, e in enumerate(status.get("queue", []), 1)]
        + [f"  {e['id']}  {_paint(e['status'], color)}  {_cell(e['branch'])}"
           + (f"  ({_cell(e['reason'])})" if e.get("reason") else "")
           for e in status.get("landed_or_failed", [])],
    )  # fmt: skip
    section(
        "ready work",
        [f"  {r['id']}  {_cell(r.get('title') or '')}" for r in status.get("ready", [])],
    )
    section(
        "plans",
        [f"  {p['id']}  {p['done']}/{p['total']} done  {_cell(p['title'])}"
         for p in status.get("plans", [])],
    )  # fmt: skip
    return out
