"""The fast argv reader and the click CLI read a method call the same way.

``gitorch.surfaces.argv.parse`` reads well-formed method calls without
importing click; everything else goes to the click CLI. Both are generated
from the registry, so for every declared method and every kind of
parameter the two readings must give the same parameters and options,
and the fast reader must step aside (return None) for anything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from gitorch.contract.method import Method
from gitorch.contract.params import (
    Boolean,
    Choice,
    Command,
    Integer,
    Json,
    JsonObject,
    Param,
    Text,
    TextList,
)
from gitorch.contract.registry import METHODS
from gitorch.model.enums import TaskLevel
from gitorch.model.errors import UsageError
from gitorch.surfaces import argv, cli
from gitorch.surfaces.output import Options

# A method declaring one parameter of every kind, so both readers are checked on every
# kind even while no registered method uses it. It is never called.
EVERY_KIND = Method(
    "test.every_kind",
    "Not a real method: one parameter of each kind.",
    (
        Param("name", Text(), "A string.", True),
        Param("count", Integer(), "An integer.", default=1),
        Param("enabled", Boolean(), "A flag."),
        Param("tags", TextList(), "A list."),
        Param("payload", Json(), "JSON."),
        Param("options", JsonObject(), "A JSON object."),
        Param("level", Choice(TaskLevel), "An enum."),
    ),
    "thing",
    {"type": "object"},
    "gitorch.domain.tasks:get",
)


# --- building argvs ------------------------------------------------------------------------

# Per variant: (string, integer, enum form, list items, json, flag spelling).
STRING_VALUES = {
    "separate": "plain value",
    "equals": "a=b c",
    "dashed": "-x",
    "option_like": "--pretty",
    "empty": "",
}
INTEGER_VALUES = {
    "separate": "7",
    "equals": "42",
    "dashed": "-3",
    "option_like": "-C",
    "empty": "",
}
LIST_VALUES = {
    "separate": ["one", "two"],
    "equals": ["a=b", "c d"],
    "dashed": ["-a", "--b"],
    "option_like": ["--format", "-C"],
    "empty": ["", ""],
    "repeated": ["x", "x"],
}
OBJECT_VALUES = {
    "separate": '{"a": [1, "-x"]}',
    "equals": '{"k": "v=w"}',
    "dashed": '{"-": -1}',
    "option_like": '{"--repo": 1}',
    "empty": "{}",
}
JSON_VALUES = {
    "separate": '{"a": [1, "-x"]}',
    "equals": '{"k": "v=w"}',
    "dashed": "-1",
    "option_like": "--repo",
    "empty": "",
}
# Global options placed after the method: (tokens, the Options they spell).
GLOBALS = {
    "separate": (
        ["--pretty", "-C", "somewhere", "--format", "table"],
        Options("somewhere", True, "table"),
    ),
    "equals": (["--repo=some=where", "--format=json"], Options("some=where", False, "json")),
    "dashed": (["-C", "-dir", "--pretty"], Options("-dir", True, None)),
    "option_like": (
        ["--repo", "--pretty", "--format", "table"],
        Options("--pretty", False, "table"),
    ),
    "empty": ([], Options()),
}
VARIANTS = tuple(STRING_VALUES)  # every variant but "repeated", which is refused (below)


def _enum_value(param: Param, variant: str) -> str:
    assert isinstance(param.kind, Choice)
    members = [member.value for member in param.kind.enum]
    if variant == "dashed":  # the spelling a person types: Test-Group
        return members[-1].replace("_", "-").title()
    if variant == "option_like":
        return members[0].upper()
    if variant == "equals":  # CamelCase, as the contract allows: TestGroup
        return "".join(word.title() for word in members[-1].split("_"))
    return members[0] if variant == "separate" else members[-1]


def _option(param: Param, value: str, variant: str) -> list[str]:
    if variant == "equals":
        return [f"{param.option}={value}"]
    return [param.option, value]


def param_tokens(param: Param, variant: str) -> tuple[list[str], Any]:
    """The argv that gives ``param`` in ``variant``, and the value both readers must give."""
    kind = param.kind
    if isinstance(kind, Boolean):
        negated = "--no-" + param.option[2:]
        if variant in ("dashed", "option_like"):
            return [negated], False
        return [param.option], True
    if isinstance(kind, TextList):
        items = LIST_VALUES[variant]
        tokens = [token for item in items for token in _option(param, item, variant)]
        return tokens, list(items)
    if isinstance(kind, Integer):
        value = INTEGER_VALUES[variant]
    elif isinstance(kind, JsonObject):
        value = OBJECT_VALUES[variant]
    elif isinstance(kind, Json):
        value = JSON_VALUES[variant]
    elif isinstance(kind, Choice):
        value = _enum_value(param, variant)
    else:
        assert isinstance(kind, (Text, Command)), kind
        value = STRING_VALUES[variant]
    return _option(param, value, variant), value


class ArgvCase(NamedTuple):
    """One method call as argv, and what both readers must read from it."""

    test_id: str
    method: str
    args: list[str]
    params: dict[str, Any]
    options: Options


def cases(methods: dict[str, Method]) -> Iterator[ArgvCase]:
    """For every method: every parameter in every variant, globals after the method."""
    for name, method in methods.items():
        for variant in VARIANTS:
            args = [name]
            params: dict[str, Any] = {}
            globals_, options = GLOBALS[variant]
            for index, param in enumerate(method.params):
                tokens, value = param_tokens(param, variant)
                args += tokens
                params[param.name] = value
                if index == 0 and variant == "separate":
                    args += globals_  # globals between parameters
            if variant != "separate" or not method.params:
                args += globals_
            yield ArgvCase(f"{name}-{variant}", name, args, params, options)
        required = [param for param in method.params if param.required]
        args = [name]
        for param in required:
            args += param_tokens(param, "separate")[0]
        yield ArgvCase(
            f"{name}-required_only",
            name,
            args,
            {param.name: param_tokens(param, "separate")[1] for param in required},
            Options(),
        )


def _as_params(items: list[ArgvCase]) -> list[Any]:
    return [pytest.param(case, id=case.test_id) for case in items]


REGISTERED = list(cases(METHODS))
SYNTHETIC = list(cases({EVERY_KIND.name: EVERY_KIND}))


@pytest.fixture
def every_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the every-kind method for one test (both readers share the registry)."""
    monkeypatch.setitem(METHODS, EVERY_KIND.name, EVERY_KIND)


# --- the two readers -----------------------------------------------------------------------


def run_reading(
    monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> tuple[Method, dict[str, Any], Options]:
    """What the whole click CLI hands to ``run_method`` for ``args``."""
    seen: list[tuple[Method, dict[str, Any], Options]] = []

    def fake_run_method(
        method: Method, params: dict[str, Any], options: Options, *, from_command_line: bool
    ) -> int:
        assert from_command_line
        seen.append((method, dict(params), options))
        return 0

    monkeypatch.setattr(cli, "run_method", fake_run_method)
    assert cli.run(list(args)) == 0
    assert len(seen) == 1
    return seen[0]


def check_agreement(case: ArgvCase, monkeypatch: pytest.MonkeyPatch) -> None:
    call = argv.parse(list(case.args))
    assert call is not None, f"argv.parse declined {case.args}"
    assert call.method == METHODS[case.method]
    assert call.params == case.params
    assert call.options == case.options

    method, run_params, run_options = run_reading(monkeypatch, case.args)
    assert method == call.method
    assert run_params == call.params
    assert run_options == call.options


@pytest.mark.parametrize("case", _as_params(REGISTERED))
def test_registered_methods_read_alike(case: ArgvCase, monkeypatch: pytest.MonkeyPatch) -> None:
    check_agreement(case, monkeypatch)


@pytest.mark.parametrize("case", _as_params(SYNTHETIC))
@pytest.mark.usefixtures("every_kind")
def test_every_kind_of_parameter_reads_alike(
    case: ArgvCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_agreement(case, monkeypatch)


def test_every_method_and_kind_is_covered() -> None:
    assert {case.method for case in REGISTERED} == set(METHODS)
    kinds = {
        type(param.kind) for method in (*METHODS.values(), EVERY_KIND) for param in method.params
    }
    assert kinds == {Text, Integer, Boolean, TextList, Json, JsonObject, Choice, Command}


@pytest.mark.parametrize(
    ("args", "options"),
    [
        (["--pretty", "-C", "a", "task.list"], Options("a", True, None)),
        (["--repo=a", "--format", "table", "task.list", "--pretty"], Options("a", True, "table")),
        (["task.list", "--format=json", "--repo=x"], Options("x", False, "json")),
    ],
    ids=["before", "around", "after"],
)
def test_global_options_before_or_after_the_method(
    args: list[str], options: Options, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = argv.parse(args)
    assert call is not None
    assert call.options == options
    assert call.params == {}
    method, params, run_options = run_reading(monkeypatch, args)
    assert (method, params, run_options) == (call.method, call.params, call.options)


REPEATED = [
    ["-C", "a", "task.list", "-C", "b"],
    ["--format", "table", "task.list", "--format", "json"],
    ["task.list", "--pretty", "--pretty"],
    ["task.get", "--task-id", "a", "--task-id", "b"],
    ["task.get", "--task-id=a", "--task-id", "b"],
    ["test.every_kind", "--name", "x", "--enabled", "--no-enabled"],
    ["test.every_kind", "--name", "x", "--enabled", "--enabled"],
    ["test.every_kind", "--name", "x", "--count", "1", "--count", "2"],
]


@pytest.mark.usefixtures("every_kind")
@pytest.mark.parametrize("args", REPEATED, ids=[" ".join(a) for a in REPEATED])
def test_a_single_valued_option_given_twice_is_invalid_params(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: the last one won."""
    with pytest.raises(UsageError) as info:
        argv.parse(args)
    assert info.value.code == "invalid_params"
    seen: list[object] = []
    monkeypatch.setattr(cli, "run_method", lambda *a, **k: seen.append(a) or 0)
    assert cli.run(list(args)) == 2
    assert not seen


@pytest.mark.parametrize(
    "args",
    [
        ["call", "task.list", "--params", "{}", "--pretty"],
        ["--pretty", "call", "task.list", "--params", "{}"],
        ["methods", "--pretty"],
        ["call", "task.list", "-C", ".", "--params", "{}", "--pretty"],
    ],
    ids=["call_pretty_after", "call_pretty_before", "methods_pretty_after", "call_repo_pretty"],
)
def test_global_options_around_call_and_methods(
    args: list[str], repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: git orch call task.list --params '{}' --pretty was exit 2."""
    monkeypatch.chdir(repo)
    assert cli.run(list(args)) == 0
    out = capsys.readouterr().out
    assert out.startswith("{\n  ")  # indented: --pretty was honoured


# --- what the fast reader leaves to click --------------------------------------------------


class Declined(NamedTuple):
    """An argv that is not a plain method call: argv.parse must return None."""

    test_id: str
    args: list[str]


DECLINED = [
    Declined("empty", []),
    Declined("help_long", ["--help"]),
    Declined("help_short", ["-h"]),
    Declined("method_help_long", ["task.get", "--help"]),
    Declined("method_help_short", ["task.create", "-h"]),
    Declined("method_help_after_params", ["task.get", "--task-id", "x", "--help"]),
    Declined("help_command", ["help", "task.get"]),
    Declined("unknown_option", ["task.list", "--bogus", "x"]),
    Declined("unknown_option_equals", ["task.list", "--bogus=x"]),
    Declined("underscore_option", ["task.get", "--task_id", "x"]),
    Declined("negated_non_flag", ["task.get", "--no-task-id"]),
    Declined("unknown_global_before", ["--bogus", "task.list"]),
    Declined("positional", ["task.get", "abc"]),
    Declined("positional_after_params", ["task.get", "--task-id", "x", "abc"]),
    Declined("double_dash", ["task.get", "--", "--task-id", "x"]),
    Declined("missing_value_at_end", ["task.get", "--task-id"]),
    Declined("missing_global_value_at_end", ["task.list", "-C"]),
    Declined("missing_global_value_before", ["-C"]),
    Declined("missing_format_value", ["task.list", "--format"]),
    Declined("bad_format", ["task.list", "--format", "xml"]),
    Declined("bad_format_before", ["--format=xml", "task.list"]),
    Declined("attached_short_option", ["-Csomewhere", "task.list"]),
    Declined("short_option_equals", ["task.list", "-C=x"]),
    Declined("unknown_method", ["task.nope"]),
    Declined("unknown_method_after_globals", ["--pretty", "task.nope", "--x", "1"]),
    Declined("call", ["call", "task.create", "--params", "{}"]),
    Declined("call_bare", ["call"]),
    Declined("methods", ["methods"]),
    Declined("only_globals", ["--pretty", "-C", "x"]),
]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.test_id) for case in DECLINED])
def test_parse_leaves_everything_else_to_click(case: Declined) -> None:
    assert argv.parse(list(case.args)) is None


@pytest.mark.usefixtures("every_kind")
@pytest.mark.parametrize(
    "args",
    [
        ["test.every_kind", "--enabled=yes"],
        ["test.every_kind", "--no-enabled=1"],
        ["test.every_kind", "--no-name"],
        ["test.every_kind", "--tags"],
    ],
    ids=["flag_with_value", "negated_flag_with_value", "negated_string", "list_missing_value"],
)
def test_parse_leaves_malformed_flags_to_click(args: list[str]) -> None:
    assert argv.parse(args) is None
