"""The README's method reference, generated from the registry.

``python -m gitorch.contract.reference README.md`` rewrites the part of the
README between the markers; a test fails when the README is behind.
"""

from __future__ import annotations

import sys

from gitorch.contract.method import Method
from gitorch.contract.params import Choice, Param, Text
from gitorch.contract.registry import METHODS

BEGIN = (
    "<!-- BEGIN METHOD REFERENCE (generated: python -m gitorch.contract.reference README.md) -->"
)
END = "<!-- END METHOD REFERENCE -->"


def _type(param: Param) -> str:
    kind = param.kind
    if isinstance(kind, Choice):
        return " \\| ".join(f"`{member.value}`" for member in kind.enum)
    if isinstance(kind, Text):
        return f"string, ≤ {kind.limit:,} chars"
    return kind.type_name


def method_markdown(method: Method) -> str:
    """One method's section."""
    lines = [f"### `{method.name}`", "", method.summary, ""]
    if method.params:
        lines += ["| parameter | type | required | default | meaning |", "|---|---|---|---|---|"]
        for param in method.params:
            default = "" if param.default is None else f"`{param.default}`"
            lines.append(
                f"| `{param.option}` | {_type(param)} | "
                f"{'yes' if param.required else ''} | {default} | {param.help} |"
            )
        lines.append("")
    keys = ", ".join(f'"{key}": ...' for key in method.result_keys())
    lines += [f"Returns `{{{keys}}}`.", ""]
    return "\n".join(lines)


def reference() -> str:
    """Every method's section, in registry order."""
    return "\n".join(method_markdown(method) for method in METHODS.values())


def update(text: str) -> str:
    """``text`` with the part between the markers replaced by the current reference."""
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError("the README has no method reference markers")
    return f"{head}{BEGIN}\n\n{reference()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    """Rewrite the reference in the files named."""
    for path in argv:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(update(text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
