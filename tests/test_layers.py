"""Layers point one way: model -> store -> domain -> contract -> surfaces.

And the read path stays lean: a ``git orch task.get`` must not load click,
dulwich, filelock or subprocess (DESIGN.md, performance budget). Both are
checked here by reading imports, never by timing.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import gitorch
from tests.gitrepo import orch as run

PACKAGE = Path(gitorch.__file__).parent
LAYERS = {"model": 0, "store": 1, "domain": 2, "contract": 3, "surfaces": 4}


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "gitorch":
        return None
    if len(parts) == 1:
        return 0  # the package itself holds only the version
    if parts[1] in ("api", "__main__"):
        return LAYERS["surfaces"]
    return LAYERS.get(parts[1])


def imports_of(path: Path, module: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.rsplit(".", node.level)[0]
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("gitorch.")
            and ":" in node.value
        ):
            # Registry handlers name their domain function as "module:function".
            found.add(node.value.split(":")[0])
    return found


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_no_module_imports_a_higher_layer() -> None:
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        own = layer_of(module)
        assert own is not None, f"{module} is in no layer"
        for target in imports_of(path, module):
            other = layer_of(target)
            if other is not None and other > own:
                offences.append(f"{module} imports {target}")
    assert not offences, "\n".join(offences)


def test_there_is_no_grab_bag_module() -> None:
    names = {path.stem for path in PACKAGE.rglob("*.py")}
    assert not names & {"utils", "helpers", "misc", "common"}


def test_a_read_loads_only_what_it_needs(repo: Path) -> None:
    task = run(repo, "task.create", "--level", "epic", "--title", "lean").out["task"]
    probe = (
        "import sys, io, contextlib\n"
        "from gitorch.surfaces.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['task.get', '--task-id', {task['id']!r}])\n"
        "print(code, sorted(m for m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    code, modules = out.split(" ", 1)
    loaded = set(json.loads(modules.replace("'", '"')))
    assert code == "0"
    heavy = {"click", "dulwich", "filelock", "subprocess", "libtmux", "yaml", "dataclasses"}
    heavy |= {"mcp", "mcp_types", "anyio", "pydantic", "sqlite3", "datetime", "hashlib", "typing"}
    assert not {m.split(".")[0] for m in loaded} & heavy


def test_only_the_mcp_surface_imports_the_mcp_sdk() -> None:
    sdk = {"mcp", "mcp_types", "anyio"}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        imported = {name.split(".")[0] for name in imports_of(path, module)}
        if module != "gitorch.surfaces.mcp":
            assert not imported & sdk, f"{module} imports the MCP SDK"
