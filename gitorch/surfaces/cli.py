"""The click command line, generated from the registry.

Each method becomes a command whose options are its parameters; values
reach the registry as the strings click read, so checking them stays in
one place (``gitorch.contract.params``). Besides the methods: ``call``
(parameters as one JSON object), ``methods`` (every JSON Schema) and
``help``. The global options are accepted before or after the command;
a single-valued option given twice is ``invalid_params``. Click's own
usage errors are turned into the contract's JSON error with exit 2.
"""

from __future__ import annotations

import sys

import click

from gitorch.contract.method import Method
from gitorch.contract.params import load_json
from gitorch.contract.registry import METHODS, lookup
from gitorch.model.errors import GitorchError, InvalidParams, UsageError
from gitorch.surfaces import helptext, output
from gitorch.surfaces.argv import repeated
from gitorch.surfaces.main import run_method
from gitorch.surfaces.output import FORMATS, Options

TYPE_CHECKING = False  # typing is imported by the type checker only: it costs every process
if TYPE_CHECKING:
    from typing import Any


def _global_params() -> list[click.Parameter]:
    # multiple=True only to see a repetition, which is refused (see _one).
    return [
        click.Option(["-C", "--repo"], metavar="PATH", multiple=True, help="The repository."),
        click.Option(["--pretty"], is_flag=True, multiple=True, help="Indent the JSON."),
        click.Option(
            ["--format"], type=click.Choice(FORMATS), multiple=True, help="json or table."
        ),
    ]


def _one(values: Any, option: str) -> Any:
    """The value of a single-valued option that click collected as a tuple."""
    if not values:
        return None
    if len(values) > 1:
        raise repeated(option)
    return values[0]


def _options(ctx: click.Context, raw: dict[str, Any]) -> Options:
    """The global options, given before the command or after it, never both."""
    outer: dict[str, Any] = ctx.obj or {}
    merged: dict[str, Any] = {}
    for name, option in (("repo", "--repo"), ("pretty", "--pretty"), ("format", "--format")):
        before, after = outer.get(name), _one(raw.pop(name, ()), option)
        if before is not None and after is not None:
            raise repeated(option)
        merged[name] = after if after is not None else before
    return Options(merged["repo"], bool(merged["pretty"]), merged["format"])


def _show_schema(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        method = METHODS[str(ctx.info_name)]
        output.emit_json(
            {"method": method.schema(), "usage": helptext.synopsis(method)}, pretty=True
        )
        ctx.exit(0)


def _method_command(method: Method) -> click.Command:
    def callback(**raw: Any) -> None:
        ctx = click.get_current_context()
        options = _options(ctx, raw)
        params: dict[str, Any] = {}
        for param in method.params:
            value = raw.get(param.name)
            if param.kind.multiple:
                value = list(value) if value else None
            elif param.kind.flag:
                value = _flag(raw, param.name, param.option)
            else:
                value = _one(value, param.option)
            if value is not None:
                params[param.name] = value
        ctx.exit(run_method(method, params, options, from_command_line=True))

    options: list[click.Parameter] = []
    for param in method.params:
        if param.kind.flag:
            # Counted, so that a flag given twice (or with its --no- form) is refused.
            options.append(
                click.Option([param.option, f"{param.name}__yes"], count=True, help=param.help)
            )
            options.append(
                click.Option([f"--no-{param.option[2:]}", f"{param.name}__no"], count=True)
            )
        else:
            options.append(click.Option([param.option], multiple=True, help=param.help))
    options.append(
        click.Option(
            ["-h", "--help"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_show_schema,
            help="Print this method's JSON Schema.",
        )
    )
    return click.Command(
        method.name,
        callback=callback,
        params=options + _global_params(),
        help=method.summary,
        add_help_option=False,
    )


def _flag(raw: dict[str, Any], name: str, option: str) -> bool | None:
    """``--x`` / ``--no-x``: click counts each spelling."""
    yes, no = raw.pop(f"{name}__yes", 0), raw.pop(f"{name}__no", 0)
    if yes + no > 1:
        raise repeated(option)
    return True if yes else False if no else None


class _Group(click.Group):
    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if name not in self.commands and not name.startswith("-"):
            lookup(name)  # raises the contract's unknown-method error
        return super().resolve_command(ctx, args)


def _read_params(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    source = "--params"
    try:
        if text == "-":
            source = "stdin"
            data = sys.stdin.buffer.read()
        elif text.startswith("@"):
            source = text[1:]
            with open(source, "rb") as handle:
                data = handle.read()
        else:
            data = text.encode("utf-8", "surrogateescape")
        decoded = data.decode("utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}", {"path": source}) from None
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{source}: not UTF-8 text (byte {exc.start})", {"source": source}
        ) from None
    try:
        value = load_json(decoded, source, check=False)
    except InvalidParams as exc:
        raise UsageError(exc.message, exc.details) from None
    if not isinstance(value, dict):
        raise UsageError(f"{source}: parameters must be a JSON object", {"source": source})
    return value


def build() -> click.Group:
    """The whole command line."""

    @click.group(
        cls=_Group,
        invoke_without_command=True,
        add_help_option=False,
        context_settings={"max_content_width": 100},
        params=_global_params(),
    )
    @click.option("-h", "--help", "show_help", is_flag=True, help="Show the overview.")
    @click.pass_context
    def group(ctx: click.Context, /, show_help: bool, **raw: Any) -> None:
        ctx.obj = {
            "repo": _one(raw["repo"], "--repo"),
            "pretty": True if _one(raw["pretty"], "--pretty") else None,
            "format": _one(raw["format"], "--format"),
        }
        if show_help or ctx.invoked_subcommand is None:
            output.write(helptext.overview())
            ctx.exit(0)

    @click.pass_context
    def call(ctx: click.Context, /, method_name: str, params_text: Any, **raw: Any) -> None:
        """Call METHOD with its parameters as one JSON object."""
        options = _options(ctx, raw)
        method = lookup(method_name)
        params = _read_params(_one(params_text, "--params"))
        ctx.exit(run_method(method, params, options, from_command_line=False))

    group.add_command(
        click.Command(
            "call",
            callback=call,
            params=[
                click.Argument(["method_name"], metavar="METHOD"),
                click.Option(
                    ["--params", "params_text"],
                    metavar="JSON|@FILE|-",
                    multiple=True,
                    help="The parameters.",
                ),
                *_global_params(),
            ],
            help="Call METHOD with its parameters as one JSON object.",
            add_help_option=False,
        )
    )

    @click.pass_context
    def methods(ctx: click.Context, /, **raw: Any) -> None:
        """Every method with the JSON Schema of its parameters and result."""
        options = _options(ctx, raw)
        output.emit_json(
            {"methods": [method.schema() for method in METHODS.values()]}, options.pretty
        )

    group.add_command(
        click.Command(
            "methods",
            callback=methods,
            params=_global_params(),
            help="Every method with its JSON Schema.",
            add_help_option=False,
        )
    )

    @group.command("help", add_help_option=False)
    @click.argument("method_name", metavar="METHOD", required=False)
    def help_command(method_name: str | None) -> None:
        """How to call gitorch, or one method."""
        if method_name is None:
            output.write(helptext.overview())
        else:
            output.write(helptext.method_text(lookup(method_name)))

    for method in METHODS.values():
        group.add_command(_method_command(method))
    return group


def run(args: list[str]) -> int:
    """Run the click command line on ``args``; the exit code."""
    try:
        # Without standalone mode click returns the code given to ctx.exit().
        code = build().main(args, prog_name="git orch", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        return output.fail(UsageError(exc.format_message()))
    except click.Abort:
        return output.fail(UsageError("aborted"))
    except GitorchError as exc:
        return output.fail(exc)
    return code if isinstance(code, int) else 0
