"""The gitorch benchmark: DESIGN.md section 6, measured on this machine.

Run from the repository root: ``python bench/run.py`` (``--quick`` for a
smaller run). It prints a Markdown table. It asserts nothing except that
concurrent writers lose no change (exit 1 when they do).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitorch.api import Orchestrator
from gitorch.domain.tasks import create_many
from gitorch.model.kinds import MAIN_MERGE as MAIN_MERGE_KIND

REPO_ROOT = Path(__file__).resolve().parent.parent
NAIVE_LOOSE_PER_CHANGE = 5  # DESIGN.md section 6: 10,000 changes, never packed: 50,500 loose

Row = tuple[str, str]

WRITER_SCRIPT = """
import sys
from gitorch.api import Orchestrator

repo, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with Orchestrator(repo) as orch:
    for i in range(count):
        orch.call("task.create", {"level": "case", "title": f"writer {worker} task {i}"})
"""

TIMED_WRITER_SCRIPT = """
import json, sys, time
from gitorch.api import Orchestrator

repo, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
waits = []
with Orchestrator(repo) as orch:
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for i in range(count):
        started = time.perf_counter()
        orch.call("task.create", {"level": "case", "title": f"timed {worker} task {i}"})
        waits.append(time.perf_counter() - started)
print(json.dumps(waits))
"""

CLI_LOOP_SCRIPT = """
import subprocess
import sys

repo, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(count):
    subprocess.run(
        ["git", "orch", "task.create", "--level", "case", "--title", f"cli {worker} {i}"],
        cwd=repo, check=True, stdout=subprocess.DEVNULL,
    )
"""


@dataclass(frozen=True)
class Plan:
    """How much to measure."""

    rounds: int  # runs of the floor and of task.get
    create_runs: int  # runs of task.create as a process
    inproc_calls: int  # in-process task.create calls per state size
    big_state: int  # the largest state for in-process task.create
    loose_changes: int  # changes before counting loose objects (run last) ...
    deadline: float  # ... unless the whole run reaches this many seconds first
    loose_min: int = 1_000  # changes made even when the deadline has passed
    writers: int = 8
    writer_tasks: int = 50
    timed_writer_tasks: int = 50
    cli_loops: int = 8
    cli_loop_runs: int = 10
    list_runs: int = 5


FULL = Plan(
    rounds=21,
    create_runs=15,
    inproc_calls=200,
    big_state=100_000,
    loose_changes=10_000,
    deadline=480.0,
)
QUICK = Plan(
    rounds=11,
    create_runs=7,
    inproc_calls=100,
    big_state=20_000,
    loose_changes=2_000,
    deadline=90.0,
    timed_writer_tasks=20,
)

_START = time.perf_counter()


# -- small helpers ---------------------------------------------------------
def progress(message: str) -> None:
    print(f"[{time.perf_counter() - _START:6.1f} s] {message}", file=sys.stderr, flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def target(value: float, limit: float) -> str:
    verdict = "ok" if value <= limit else "OVER"
    return f"{value:.2f}× (target ≤ {limit:g}×, {verdict})"


def hermetic_env(home: Path) -> None:
    """Make this process and every child use this checkout and no user or system config."""
    home.mkdir()
    bin_dir = os.path.dirname(sys.executable)
    os.environ.update(
        {
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Bench Author",
            "GIT_AUTHOR_EMAIL": "author@bench.invalid",
            "GIT_COMMITTER_NAME": "Bench Committer",
            "GIT_COMMITTER_EMAIL": "committer@bench.invalid",
        }
    )
    os.environ.pop("GIT_ORCH_SESSION", None)


def git(args: list[str], cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def fsck_ok(repo: Path) -> bool:
    done = subprocess.run(["git", "fsck", "--strict"], cwd=repo, capture_output=True, check=False)
    return done.returncode == 0


def make_repo(path: Path) -> Path:
    git(["init", "-q", "-b", "main", str(path)], path.parent)
    (path / "README").write_text("bench\n", encoding="utf-8")
    git(["add", "README"], path)
    git(["commit", "-q", "-m", "init"], path)
    return path


def build_state(path: Path, tasks: int) -> list[str]:
    """A fresh repository holding ``tasks`` tasks, written as one commit."""
    make_repo(path)
    if tasks == 0:
        return []
    started = time.perf_counter()
    specs = [{"level": "case", "title": f"task {i}"} for i in range(tasks)]
    orch = Orchestrator(path)
    try:
        ids = create_many(orch.context.for_call("task.import", None), specs)
    finally:
        orch.close()
    progress(f"built {tasks:,} tasks in {time.perf_counter() - started:.1f} s")
    return ids


def task_total(repo: Path) -> int:
    with Orchestrator(repo) as orch:
        total = orch.call("task.list", {"limit": 0})["total"]
    assert isinstance(total, int)
    return total


def run_process(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (KiB, the child and what it waited for) of one process."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            message = err.read().decode("utf-8", "replace")
            raise RuntimeError(f"{args} exited {proc.returncode}: {message}")
    return elapsed, float(usage.ru_maxrss)


def run_concurrently(commands: list[list[str]], cwd: Path) -> float:
    """Wall seconds from starting every command at once to the last one ending."""
    started = time.perf_counter()
    procs = [subprocess.Popen(command, cwd=cwd) for command in commands]
    codes = [proc.wait() for proc in procs]
    elapsed = time.perf_counter() - started
    if any(codes):
        raise RuntimeError(f"concurrent workers exited {codes}")
    return elapsed


def timed(call: Callable[..., object], *args: object) -> float:
    """Seconds one call of ``call(*args)`` takes."""
    started = time.perf_counter()
    call(*args)
    return time.perf_counter() - started


def time_calls(call: Callable[[], object], count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def filesystem_of(path: Path) -> str:
    """The file system type ``path`` lives on (from /proc/mounts), or ``?``."""
    best, kind = "", "?"
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                point = fields[1]
                inside = str(path) == point or str(path).startswith(point.rstrip("/") + "/")
                if inside and len(point) > len(best):
                    best, kind = point, fields[2]
    except OSError:
        pass
    return kind


def machine_line(work: Path) -> str:
    version = git(["--version"], work).strip().removeprefix("git version ")
    return (
        f"machine: Python {sys.version.split()[0]}, git {version}, "
        f"nproc {len(os.sched_getaffinity(0))}, temp dir on {filesystem_of(work)}, "
        f"libyaml {'yes' if yaml.__with_libyaml__ else 'no'}"
    )


# -- measurements ------------------------------------------------------------
def clear_cache(orch_dir: str) -> None:
    """Remove the local cache (cache.sqlite and its WAL files), as right after a clone."""
    for name in os.listdir(orch_dir):
        if name.startswith("cache"):
            path = os.path.join(orch_dir, name)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


JSON_FLOOR = (
    "import json, sys\n"
    "with open(sys.argv[1], encoding='utf-8') as f:\n"
    "    data = json.loads(f.read())\n"
    "sys.stdout.write(json.dumps(data, ensure_ascii=False) + '\\n')\n"
)


def measure_list(repo: Path, plan: Plan) -> list[Row]:
    """task.list of every task: warm and cold in process; warm as a process vs a JSON floor."""
    with Orchestrator(repo) as orch:
        total = orch.call("task.list")["total"]
        warm = time_calls(lambda: orch.call("task.list"), plan.list_runs)
        orch_dir = orch.repo.orch_dir
    clear_cache(orch_dir)
    with Orchestrator(repo) as orch:
        cold = time_calls(lambda: orch.call("task.list"), 1)
    listing = subprocess.run(
        ["git", "orch", "task.list"], cwd=repo, check=True, capture_output=True
    ).stdout
    output = repo.parent / "task-list.json"
    output.write_bytes(listing)
    probes = {
        "list": ["git", "orch", "task.list"],
        "json": [sys.executable, "-c", JSON_FLOOR, str(output)],
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in probes}
    rng = random.Random(7)
    for _ in range(plan.list_runs):
        names = list(probes)
        rng.shuffle(names)
        for name in names:
            runs[name].append(run_process(probes[name], repo))
    listed = statistics.median(run[0] for run in runs["list"])
    floor = statistics.median(run[0] for run in runs["json"])
    label = f"task.list of {total:,} tasks"
    return [
        (f"{label}, in process, warm (median of {plan.list_runs})", ms(statistics.median(warm))),
        (
            f"{label}, in process, cold (no cache, fresh Orchestrator; target ≤ 1.5 s)",
            ms(cold[0]) + (" ok" if cold[0] <= 1.5 else " OVER"),
        ),
        (
            f"{label}, `git orch task.list` process, warm (median of {plan.list_runs})",
            ms(listed),
        ),
        (
            f"JSON floor: a process doing json.loads + json.dumps of that output "
            f"({len(listing) / 1e6:.1f} MB, median of {plan.list_runs})",
            ms(floor),
        ),
        ("task.list process / JSON floor", target(listed / floor, 2)),
        (f"{label}, `git orch task.list` peak RSS", mib(max(run[1] for run in runs["list"]))),
    ]


def measure_processes(small: Path, large: Path, ids: dict[Path, str], plan: Plan) -> list[Row]:
    """Floor, task.get and task.create as processes, interleaved in random order."""
    create = ["git", "orch", "task.create", "--level", "case", "--title", "x"]
    probes: dict[str, tuple[list[str], Path, int]] = {
        "floor": ([sys.executable, "-c", "pass"], small, plan.rounds),
        "get@1k": (["git", "orch", "task.get", "--task-id", ids[small]], small, plan.rounds),
        "get@10k": (["git", "orch", "task.get", "--task-id", ids[large]], large, plan.rounds),
        "create@1k": (create, small, plan.create_runs),
        "create@10k": (create, large, plan.create_runs),
    }
    for args, cwd, _ in probes.values():  # one unrecorded warm-up run each
        run_process(args, cwd)
    times: dict[str, list[float]] = {name: [] for name in probes}
    rng = random.Random(20240601)
    for _ in range(max(runs for _, _, runs in probes.values())):
        names = [name for name, probe in probes.items() if len(times[name]) < probe[2]]
        rng.shuffle(names)
        for name in names:
            args, cwd, _ = probes[name]
            times[name].append(run_process(args, cwd)[0])
    med = {name: statistics.median(values) for name, values in times.items()}
    n = {name: len(values) for name, values in times.items()}
    return [
        (f"interpreter floor `python -c pass` (median of {n['floor']})", ms(med["floor"])),
        (f"`git orch task.get` at 1,000 tasks (median of {n['get@1k']})", ms(med["get@1k"])),
        (f"`git orch task.get` at 10,000 tasks (median of {n['get@10k']})", ms(med["get@10k"])),
        ("task.get@10k / floor", target(med["get@10k"] / med["floor"], 4)),
        (
            f"`git orch task.create` at 1,000 tasks (median of {n['create@1k']})",
            ms(med["create@1k"]),
        ),
        (
            f"`git orch task.create` at 10,000 tasks (median of {n['create@10k']})",
            ms(med["create@10k"]),
        ),
        ("task.create@10k / floor", target(med["create@10k"] / med["floor"], 8)),
    ]


def inproc_creates(repo: Path, calls: int) -> tuple[int, list[float]]:
    """Existing tasks, and the seconds of ``calls`` in-process task.create (after one warm-up)."""
    with Orchestrator(repo) as orch:
        existing = orch.call("task.list", {"limit": 0})["total"]
        params = {"level": "case", "title": "x"}
        orch.call("task.create", params)
        return existing, time_calls(lambda: orch.call("task.create", params), calls)


def creates_row(existing: int, times: list[float]) -> Row:
    label = f"in-process task.create at {existing:,} tasks ({len(times)} calls)"
    value = (
        f"median {ms(statistics.median(times))}, mean {ms(statistics.fmean(times))}, "
        f"{len(times) / sum(times):.0f} changes/s"
    )
    return label, value


def measure_inproc(work: Path, large: Path, plan: Plan) -> list[Row]:
    """In-process task.create at 100, ~10,000 and ``plan.big_state`` tasks."""
    hundred = work / "state-100"
    build_state(hundred, 100)
    small_n, small_t = inproc_creates(hundred, plan.inproc_calls)
    progress(f"in-process creates at {small_n:,} done")
    mid_n, mid_t = inproc_creates(large, plan.inproc_calls)
    progress(f"in-process creates at {mid_n:,} done")
    big = work / "state-big"
    build_state(big, plan.big_state)
    big_n, big_t = inproc_creates(big, plan.inproc_calls)
    progress(f"in-process creates at {big_n:,} done")
    ratio = statistics.median(big_t) / statistics.median(small_t)
    return [
        creates_row(small_n, small_t),
        creates_row(mid_n, mid_t),
        creates_row(big_n, big_t),
        (f"in-process task.create median@{big_n:,} / median@{small_n:,}", target(ratio, 1.5)),
    ]


def count_check(label: str, repo: Path, expected: int) -> tuple[Row, bool]:
    total = task_total(repo)
    fsck = fsck_ok(repo)
    passed = total == expected and fsck
    verdict = "PASS" if passed else "FAIL"
    fsck_text = "exit 0" if fsck else "FAILED"
    value = f"{total}/{expected} {verdict} (fsck --strict {fsck_text})"
    return (f"{label}: final count", value), passed


def concurrent_writers(
    repo: Path, script: str, workers: int, each: int, label: str, unit: str
) -> tuple[list[Row], bool]:
    """``workers`` processes running ``script`` (each making ``each`` changes) at once."""
    total = workers * each
    commands = [
        [sys.executable, "-c", script, str(repo), str(i), str(each)] for i in range(workers)
    ]
    wall = run_concurrently(commands, repo)
    check, passed = count_check(label, repo, total)
    rows = [
        (f"{label} × {each} {unit}: wall time", f"{wall:.2f} s"),
        (f"{label} × {each} {unit}: throughput", f"{total / wall:.1f} changes/s"),
        check,
    ]
    return rows, passed


def measure_writers(work: Path, plan: Plan) -> tuple[list[Row], bool]:
    """Concurrent in-process writers, then concurrent CLI loops, each on a fresh repository."""
    rows, writers_ok = concurrent_writers(
        make_repo(work / "writers"),
        WRITER_SCRIPT,
        plan.writers,
        plan.writer_tasks,
        f"{plan.writers} writers",
        "in-process task.create",
    )
    progress("concurrent in-process writers done")
    cli_rows, cli_ok = concurrent_writers(
        make_repo(work / "cli-writers"),
        CLI_LOOP_SCRIPT,
        plan.cli_loops,
        plan.cli_loop_runs,
        f"{plan.cli_loops} CLI loops",
        "`git orch task.create`",
    )
    progress("concurrent CLI loops done")
    return rows + cli_rows, writers_ok and cli_ok


def measure_waits(work: Path, plan: Plan) -> tuple[list[Row], bool]:
    """16 writers started together: how long each change waits (lock fairness)."""
    repo = make_repo(work / "timed-writers")
    writers, each = 16, plan.timed_writer_tasks
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", TIMED_WRITER_SCRIPT, str(repo), str(i), str(each)],
            cwd=repo,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(writers)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    waits: list[float] = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"a timed writer exited {proc.returncode}")
        waits += json.loads(out.strip().splitlines()[-1])
    wall = time.perf_counter() - started
    waits.sort()
    p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))]
    label = f"{writers} writers × {each} in-process task.create"
    check, passed = count_check(f"{writers} timed writers", repo, writers * each)
    return [
        (
            f"{label}: per-change latency p50 / p99 / max",
            f"{ms(waits[len(waits) // 2])} / {ms(p99)} / {ms(waits[-1])}",
        ),
        (f"{label}: throughput", f"{writers * each / wall:.1f} changes/s"),
        check,
    ], passed


def measure_sessions(work: Path, plan: Plan) -> list[Row]:
    """session.heartbeat and work.current_ref as processes; session.open vs git worktree add."""
    repo = make_repo(work / "sessions")
    with Orchestrator(repo) as orch:
        session = orch.call("session.open", {"agent_role": "bench"})["session"]["id"]
    adds = iter(range(10_000))
    probes: dict[str, Callable[[], list[str]]] = {
        "floor": lambda: [sys.executable, "-c", "pass"],
        "heartbeat": lambda: ["git", "orch", "session.heartbeat", "--session-id", session],
        "ref": lambda: ["git", "orch", "work.current_ref", "--session-id", session],
        "open": lambda: ["git", "orch", "session.open", "--agent-role", "bench"],
        "add": lambda: (
            lambda n: ["git", "worktree", "add", "-q", "-b", f"plain-{n}", f"../plain-{n}"]
        )(next(adds)),
    }
    times: dict[str, list[float]] = {name: [] for name in probes}
    rng = random.Random(11)
    for _ in range(plan.create_runs):
        names = list(probes)
        rng.shuffle(names)
        for name in names:
            times[name].append(run_process(probes[name](), repo)[0])
    med = {name: statistics.median(values) for name, values in times.items()}
    n = plan.create_runs
    return [
        (f"`git orch session.heartbeat` (median of {n})", ms(med["heartbeat"])),
        ("session.heartbeat / floor", f"{med['heartbeat'] / med['floor']:.2f}×"),
        (f"`git orch work.current_ref` (median of {n})", ms(med["ref"])),
        ("work.current_ref / floor", f"{med['ref'] / med['floor']:.2f}×"),
        (f"`git orch session.open` with its worktree (median of {n})", ms(med["open"])),
        (f"plain `git worktree add -b` (median of {n})", ms(med["add"])),
        ("session.open / git worktree add", f"{med['open'] / med['add']:.2f}×"),
    ]


def _lock_state(repo: Path, sessions: int, locks: int) -> list[str]:
    """``sessions`` sessions holding ``locks`` file locks between them; their ids."""
    with Orchestrator(repo) as orch:
        ids = [
            orch.call("session.open", {"intent": "resume_work"})["session"]["id"]
            for _ in range(sessions)
        ]
        each = max(1, locks // sessions)
        for n, sid in enumerate(ids):
            paths = [f"held/{n}/f{i}.txt" for i in range(each)]
            orch.call(
                "lock.acquire",
                {"scope_type": "file", "scope_paths": paths, "owner_session": sid},
            )
    return ids


def measure_locks(work: Path, plan: Plan) -> list[Row]:
    """lock.acquire at 10 and 1,000 active locks; a commit with and without the hook."""
    rows: list[Row] = []
    for count, sessions in ((10, 5), (1_000, 50)):
        repo = make_repo(work / f"locks-{count}")
        ids = _lock_state(repo, sessions, count)
        with Orchestrator(repo) as orch:
            owner = ids[0]
            times = [
                timed(
                    orch.call,
                    "lock.acquire",
                    {"scope_type": "file", "scope_path": f"new/{i}", "owner_session": owner},
                )
                for i in range(plan.create_runs * 3)
            ]
        rows.append(
            (f"in-process lock.acquire at {count:,} active locks", ms(statistics.median(times)))
        )
    # the last repository holds 1,000 locks of 50 sessions: commit with and without the hook
    run_process(["git", "orch", "hooks", "install"], repo)
    counter = iter(range(1_000_000))

    def commit(verify: bool) -> list[str]:
        name = f"free/{next(counter)}.txt"
        (repo / "free").mkdir(exist_ok=True)
        (repo / name).write_text("x\n")
        git(["add", name], repo)
        return ["git", "commit", "-q", "-m", name, *([] if verify else ["--no-verify"])]

    times: dict[str, list[float]] = {"floor": [], "hook": [], "plain": []}
    for _ in range(plan.create_runs):
        times["floor"].append(run_process([sys.executable, "-c", "pass"], repo)[0])
        times["hook"].append(run_process(commit(True), repo)[0])
        times["plain"].append(run_process(commit(False), repo)[0])
    med = {name: statistics.median(values) for name, values in times.items()}
    added = med["hook"] - med["plain"]
    rows += [
        ("`git commit` without the hook (1,000 locks, 50 sessions)", ms(med["plain"])),
        ("`git commit` with the pre-commit hook", ms(med["hook"])),
        ("what the hook adds / interpreter floor", target(added / med["floor"], 5)),
    ]
    return rows


def build_graph(repo: Path, nodes: int, edges: int) -> None:
    """``nodes`` nodes and ``edges`` acyclic depends_on edges, written as one commit."""
    from gitorch.domain import entities
    from gitorch.model.kinds import EDGE, NODE

    rng = random.Random(3)
    with Orchestrator(repo) as orch:
        ctx = orch.context.for_call("graph.import", None)

        def apply(tx: object) -> None:
            ids = []
            for i in range(nodes):
                doc = entities.create(
                    ctx,
                    tx,
                    NODE,
                    {  # type: ignore[arg-type]
                        "node_type": "task",
                        "facet": "implementation",
                        "title": f"node {i}",
                        "status": rng.choice(["todo", "todo", "done", "in_progress"]),
                        "priority": rng.randint(0, 5),
                        "parent_id": None,
                        "worktree_id": None,
                        "owner_session_id": None,
                        "summary": None,
                        "risk_level": None,
                        "token_estimate": None,
                        "affected_files": [],
                        "approval_state": "none",
                    },
                )
                ids.append(doc["id"])
            for _ in range(edges):
                a, b = sorted(rng.sample(range(nodes), 2))
                entities.create(
                    ctx,
                    tx,
                    EDGE,
                    {  # type: ignore[arg-type]
                        "from_node_id": ids[b],
                        "to_node_id": ids[a],
                        "edge_type": "depends_on",
                    },
                )

        ctx.transact(apply)  # type: ignore[arg-type]


def measure_graph(work: Path, plan: Plan) -> list[Row]:
    """graph.ready on 10,000 nodes and 15,000 edges, warm and cold; mirror.refresh."""
    repo = make_repo(work / "graph")
    build_graph(repo, 10_000, 15_000)
    progress("built the graph")
    ready = ["git", "orch", "graph.ready"]
    with Orchestrator(repo) as orch:
        orch_dir = orch.repo.orch_dir
    cold = []
    for _ in range(3):
        clear_cache(orch_dir)
        cold.append(run_process(ready, repo)[0])
    run_process(ready, repo)
    warm = [run_process(ready, repo)[0] for _ in range(plan.rounds)]
    floor = [run_process([sys.executable, "-c", "pass"], repo)[0] for _ in range(plan.rounds)]
    refresh = ["git", "orch", "mirror.refresh", "--requester-role", "doc-mirror-manager"]
    mirrors = [run_process(refresh, repo)[0] for _ in range(3)]
    med_warm, med_floor = statistics.median(warm), statistics.median(floor)
    return [
        (
            "`git orch graph.ready`, 10,000 nodes and 15,000 edges, cold (median of 3)",
            ms(statistics.median(cold)),
        ),
        (f"`git orch graph.ready`, warm (median of {plan.rounds})", ms(med_warm)),
        ("graph.ready warm / floor", target(med_warm / med_floor, 6)),
        (
            "`git orch mirror.refresh` on the same state (median of 3)",
            ms(statistics.median(mirrors)),
        ),
    ]


def count_objects(repo: Path) -> dict[str, int]:
    out = git(["count-objects", "-v"], repo)
    pairs = (line.split(":", 1) for line in out.splitlines() if ":" in line)
    return {key.strip(): int(value) for key, value in pairs}


def measure_loose(work: Path, plan: Plan) -> list[Row]:
    """Loose objects, packs and time after many in-process changes on one Orchestrator."""
    repo = make_repo(work / "loose")
    params = {"level": "case", "title": "x"}
    times: list[float] = []
    with Orchestrator(repo) as orch:
        for done in range(plan.loose_changes):
            if done >= plan.loose_min and time.perf_counter() - _START > plan.deadline:
                break
            started = time.perf_counter()
            orch.call("task.create", params)
            times.append(time.perf_counter() - started)
    changes = len(times)
    counts = count_objects(repo)
    fsck = "exit 0" if fsck_ok(repo) else "FAILED"
    naive = changes * NAIVE_LOOSE_PER_CHANGE
    label = f"after {changes:,} in-process task.create"
    if changes < plan.loose_changes:
        label += f" (of {plan.loose_changes:,} planned: the run reached its {plan.deadline:g} s)"
    time_text = (
        f"{sum(times):.1f} s (median {ms(statistics.median(times))}, "
        f"mean {ms(statistics.fmean(times))} per change)"
    )
    loose_text = (
        f"{counts['count']:,} loose ({mib(counts['size'])}), vs ≈{naive:,} never packed; "
        f"{counts['packs']} packs, size-pack {mib(counts['size-pack'])}; fsck --strict {fsck}"
    )
    return [(f"{label}: time", time_text), (f"{label}: objects", loose_text)]


# -- main --------------------------------------------------------------------
def compile_package() -> None:
    """Byte-compile gitorch once, as an install would (PYTHONDONTWRITEBYTECODE may be set).

    Both the checkout and the place ``git orch`` imports it from (an editable
    install links the sources into its own directory, and bytecode is looked
    for beside the path imported).
    """
    code = (
        "import compileall, os, gitorch\n"
        "compileall.compile_dir(os.path.dirname(gitorch.__file__), quiet=1)"
    )
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO_ROOT / "gitorch")], check=True
    )
    subprocess.run([sys.executable, "-c", code], cwd=tempfile.gettempdir(), check=True)


def print_table(header: str, rows: list[Row]) -> None:
    print(header)
    print()
    print("| measurement | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


def measure_threads(work: Path, plan: Plan) -> list[Row]:
    """Spawn-to-first-output of a child agent; thread.child.status with 6 live children."""
    if shutil.which("tmux") is None:
        return [("threads", "skipped: tmux is not installed")]
    repo = make_repo(work / "threads")
    socket = tempfile.mkdtemp(prefix="gtb-", dir="/tmp") + "/s"
    git(["config", "orch.tmux.socket", socket], repo)
    try:
        with Orchestrator(repo) as orch:
            session = orch.call("session.open", {"agent_role": "bench"})["session"]["id"]
            firsts, spawns, threads = [], [], []
            for _ in range(6):
                started = time.perf_counter()
                out = orch.call(
                    "thread.child.spawn", {"session_id": session, "agent_override": "standin"}
                )
                spawns.append(time.perf_counter() - started)
                log = Path(out["thread"]["tmux"]["log"])
                while not (log.exists() and b"standin>" in log.read_bytes()):
                    time.sleep(0.002)
                firsts.append(time.perf_counter() - started)
                threads.append(out["thread"]["id"])
            quick = time_calls(
                lambda: orch.call("thread.child.status", {"thread_id": threads[0], "window_ms": 0}),
                plan.rounds,
            )
            watched = time_calls(
                lambda: orch.call("thread.child.status", {"thread_id": threads[-1]}), 5
            )
            listed = time_calls(lambda: orch.call("thread.child.list", {"session_id": session}), 11)
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True, check=False)
    return [
        ("thread.child.spawn call, in process (median of 6)", ms(statistics.median(spawns))),
        ("child spawn to its first output (median of 6; max)",
         f"{ms(statistics.median(firsts))}; {ms(max(firsts))}"),
        (f"thread.child.status, 6 live children, window 0 (median of {plan.rounds})",
         ms(statistics.median(quick))),
        ("thread.child.status, 6 live children, default 500 ms window (median of 5)",
         ms(statistics.median(watched))),
        ("thread.child.list, 6 live children (median of 11)", ms(statistics.median(listed))),
    ]  # fmt: skip


def _queue_of(repo: Path, orch: Orchestrator, entries: int) -> str:
    """``entries`` sessions, each with one commit queued; the lander's session id."""
    for n in range(entries):
        out = orch.call("session.open", {"agent_role": f"w{n}"})
        path = Path(out["worktree"]["path"])
        (path / f"w{n}.txt").write_text(f"{n}\n")
        git(["add", f"w{n}.txt"], path)
        git(["commit", "-q", "-m", f"work {n}"], path)
        orch.call("merge.main.request", {"session_id": out["session"]["id"]})
    lander: str = orch.call("session.open", {"agent_role": "lander"})["session"]["id"]
    return lander


def measure_queue(work: Path, plan: Plan) -> list[Row]:
    """Landing 20 queued entries with a trivial check: one by one, and in batches of 5."""
    del plan
    rows: list[Row] = []
    check = [sys.executable, "-c", "pass"]
    for batch in (1, 5):
        repo = make_repo(work / f"queue-{batch}")
        with Orchestrator(repo) as orch:
            lander = _queue_of(repo, orch, 20)
            started = time.perf_counter()
            out = orch.call(
                "queue.run", {"session_id": lander, "batch": batch, "check_command": check}
            )
            took = time.perf_counter() - started
        landed = len(out["landed"])
        rows.append(
            (
                f"land 20 queued entries, batch {batch} (trivial check)",
                f"{took:.2f} s, {landed} landed, {out['checks_run']} check runs,"
                f" {took / max(1, out['lands']) * 1000:.0f} ms a land",
            )
        )
    return rows


def _changed_each_way(orch: Orchestrator, ids: list[str], count: int, word: str) -> None:
    """``count`` documents changed in one commit (their titles)."""
    from gitorch.domain import entities
    from gitorch.model.kinds import TASK

    ctx = orch.context.for_call("task.update", None)

    def apply(tx: Any) -> None:
        for task_id in ids[:count]:
            doc = entities.load(tx, TASK, task_id)
            entities.change(ctx, tx, TASK, doc, {"title": f"{doc['title']} {word}"})

    ctx.transact(apply)


def measure_sync(work: Path, plan: Plan) -> list[Row]:
    """sync of 1,000 changed documents each way on a 10,000-task state; a no-op sync; git alone."""
    del plan
    remote = work / "sync-remote.git"
    git(["init", "-q", "--bare", "-b", "main", str(remote)], work)
    a_path = work / "sync-a"
    ids = build_state(a_path, 10_000)
    git(["remote", "add", "origin", str(remote)], a_path)
    git(["push", "-q", "origin", "main"], a_path)
    b_path = work / "sync-b"
    git(["clone", "-q", str(remote), str(b_path)], work)
    rows: list[Row] = []
    with Orchestrator(a_path) as a, Orchestrator(b_path) as b:
        first = timed(a.call, "sync")
        adopt = timed(b.call, "sync")
        _changed_each_way(a, ids[:1000], 1000, "from a")
        _changed_each_way(b, ids[5000:6000], 1000, "from b")
        timed(a.call, "sync")
        merge = timed(b.call, "sync")
        forward = timed(a.call, "sync")
        noop = statistics.median(timed(a.call, "sync") for _ in range(5))
    refs = ["refs/orchestrator/state", "refs/notes/orchestrator"]
    fetch = [f"+{ref}:refs/bench/{n}" for n, ref in enumerate(refs[:1])]
    plain = statistics.median(
        timed(
            lambda: (
                git(["fetch", "-q", "origin", *fetch], a_path),
                git(["push", "-q", "origin", refs[0]], a_path),
            )
        )
        for _ in range(5)
    )
    rows += [
        ("sync: first push of a 10,000-task state", ms(first)),
        ("sync: a fresh clone adopts it", ms(adopt)),
        ("sync: merge 1,000 changed each way on 10,000 (fetch, merge, push)", ms(merge)),
        ("sync: the other side fast-forwards to that merge", ms(forward)),
        ("sync: nothing to do (median of 5)", ms(noop)),
        ("plain git fetch + git push of the same ref (median of 5)", ms(plain)),
    ]
    return rows


def measure_soak(work: Path, plan: Plan) -> list[Row]:
    """Twelve stand-in agents through the whole loop (GITORCH_SOAK_SECONDS, default 600)."""
    if shutil.which("tmux") is None:
        return [("soak", "skipped: tmux is not installed")]
    from gitorch.surfaces.demo import Demo

    seconds = float(os.environ.get("GITORCH_SOAK_SECONDS", "600" if plan is FULL else "60"))
    demo = Demo(str(work / "soak"), 12)
    log = work / "soak-calls.jsonl"
    lands: list[float] = []
    try:
        root = demo.call("session.open", {"intent": "resume_work", "agent_role": "root"})
        demo.root = root["session"]["id"]
        made = demo.call("plan.bootstrap", {"initiative_title": "Soak", "plan_title": "Soak"})
        specs = [
            {"title": f"item {n}", "affected_files": [f"src/item{n % 40}.txt"]} for n in range(2000)
        ]
        for start in range(0, len(specs), 200):
            demo.call(
                "plan.slice.generate",
                {"plan_node_id": made["plan"]["id"], "slice_specs": specs[start : start + 200]},
            )
        workers = []
        for n in range(12):
            session = demo.call("session.open", {"agent_role": f"soak-{n}"})["session"]["id"]
            # --hold: a lease is kept until the work under it has landed, as the demo's agents do
            flags = ["--work", "--loop", "--hold", f"--log={log}"]
            demo.start(session, flags, "Take ready work, land it.")
            workers.append(session)
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            if demo.call("merge.main.next")["main_merge_request"]:
                begun = time.perf_counter()
                demo.call("queue.run", {"session_id": demo.root, "batch": 4, "once": True})
                lands.append(time.perf_counter() - begun)
            else:
                time.sleep(0.2)
        for session in workers:  # stop taking work; let what is queued land
            for thread in demo.call("thread.child.list", {"session_id": session})["threads"]:
                demo.call(
                    "thread.child.stop",
                    {"thread_id": thread["id"], "terminate_pane": True, "grace_seconds": 0},
                )
        while demo.call("merge.main.next")["main_merge_request"]:
            demo.call("queue.run", {"session_id": demo.root, "batch": 4})
        elapsed = time.perf_counter() - started
        calls, commits, tracebacks = [], [], 0
        for line in log.read_text().splitlines() if log.exists() else []:
            entry = json.loads(line)
            if "method" in entry:
                calls.append(entry)
            elif "commit" in entry:
                commits.append(entry["commit"])
            elif "traceback" in entry:
                tracebacks += 1
        entries = demo.orch.store.snapshot().docs(MAIN_MERGE_KIND)
        merged = [e for e in entries if e["status"] == "merged"]
        failed = [e for e in entries if e["status"] == "failed"]
        conflicted = [e for e in failed if "conflicts" in (e.get("reason") or "")]
        unlanded = [c for c in commits if not _reachable(demo.repo, c, "main")]
        # lost: on no ref at all (an unlanded commit stays on its session's branch)
        lost_commits = sum(
            1 for c in unlanded if not _git_out(demo.repo, "for-each-ref", "--contains", c)
        )
        rows: list[Row] = [
            ("soak: agents, wall time", f"12, {elapsed:.0f} s"),
            ("soak: items worked (commits), landed entries, per minute",
             f"{len(commits)}, {len(merged)}, {len(commits) / elapsed * 60:.1f}/min"),
            ("soak: a land (queue.run --batch 4 --once): p50 / p99", _spread(lands)),
            ("soak: lost commits, failed entries (conflicts), conflicts by hand, tracebacks",
             f"{lost_commits}, {len(failed)} ({len(conflicted)}), 0, {tracebacks}"),
            ("soak: commits not on main when the agents were stopped (on their branches)",
             str(len(unlanded))),
        ]  # fmt: skip
        by_method: dict[str, list[float]] = {}
        for entry in calls:
            by_method.setdefault(entry["method"], []).append(entry["seconds"])
        for method, times in sorted(by_method.items()):
            rows.append(
                (f"soak: {method} p50 / p99 ({len(times)} calls)",
                 _spread(times))
            )  # fmt: skip
        return rows
    finally:
        demo.orch.close()
        subprocess.run(["tmux", "-S", demo.socket, "kill-server"], capture_output=True, check=False)


def _reachable(repo: str, commit: str, ref: str) -> bool:
    done = subprocess.run(
        ["git", "-C", repo, "merge-base", "--is-ancestor", commit, ref], capture_output=True
    )
    return done.returncode == 0


def _git_out(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True).stdout


def _spread(values: list[float]) -> str:
    return f"{ms(statistics.median(values))} / {ms(_p99(values))}" if values else "-"


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


SECTIONS: dict[str, Callable[[Path, Plan], list[Row]]] = {
    "soak": measure_soak,
    "sync": measure_sync,
    "threads": measure_threads,
    "queue": measure_queue,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    parser.add_argument("--only", choices=sorted(SECTIONS), help="measure one section alone")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    compile_package()
    if args.only:
        with tempfile.TemporaryDirectory(prefix="gitorch-bench-") as tmp:
            work = Path(tmp)
            hermetic_env(work / "home")
            header = machine_line(work)
            rows = SECTIONS[args.only](work, plan)
        print_table(header, rows)
        return 0
    with tempfile.TemporaryDirectory(prefix="gitorch-bench-") as tmp:
        work = Path(tmp)
        hermetic_env(work / "home")
        header = machine_line(work)
        small, large = work / "state-1k", work / "state-10k"
        ids = {small: build_state(small, 1_000)[0], large: build_state(large, 10_000)[0]}
        rows = measure_list(large, plan)
        progress("task.list done")
        rows += measure_processes(small, large, ids, plan)
        progress("process timings done")
        rows += measure_inproc(work, large, plan)
        writer_rows, passed = measure_writers(work, plan)
        rows += writer_rows
        wait_rows, waits_passed = measure_waits(work, plan)
        rows += wait_rows
        passed = passed and waits_passed
        progress("16 timed writers done")
        rows += measure_sessions(work, plan)
        progress("sessions done")
        rows += measure_locks(work, plan)
        progress("locks done")
        rows += measure_graph(work, plan)
        progress("graph done")
        rows += measure_threads(work, plan)
        progress("threads done")
        rows += measure_queue(work, plan)
        progress("queue done")
        rows += measure_sync(work, plan)
        progress("sync done")
        rows += measure_loose(work, plan)
        progress("loose objects done")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows.append(("peak RSS of the benchmark process", mib(peak)))
    rows.append(("benchmark wall time", f"{time.perf_counter() - _START:.0f} s"))
    print_table(header, rows)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
