"""The click command line, generated from the registry.

Each method becomes a command whose options are its parameters; values
reach the registry as the strings click read, so checking them stays in
one place (``gitorch.contract.params``). Besides the methods: ``call``
(parameters as one JSON object), ``methods`` (every JSON Schema) and
``help``. Click's own usage errors are turned into the contract's JSON
error with exit 2.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from gitorch.contract.method import Method
from gitorch.contract.params import BOOLEAN, STRING_LIST
from gitorch.contract.registry import METHODS, lookup
from gitorch.model.errors import GitorchError, UsageError
from gitorch.surfaces import helptext, output
from gitorch.surfaces.main import run_method
from gitorch.surfaces.output import FORMATS, Options


def _global_options(command: click.Command) -> click.Command:
    command.params += [
        click.Option(["-C", "--repo"], metavar="PATH", help="The repository."),
        click.Option(["--pretty"], is_flag=True, default=None, help="Indent the JSON."),
        click.Option(["--format"], type=click.Choice(FORMATS), help="json or table."),
    ]
    return command


def _options(ctx: click.Context, repo: str | None, pretty: bool | None, fmt: str | None) -> Options:
    """Options given after the command win over those given before it."""
    outer: Options = ctx.obj or Options()
    return Options(
        repo if repo is not None else outer.repo,
        pretty if pretty is not None else outer.pretty,
        fmt if fmt is not None else outer.format,
    )


def _show_schema(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        method = METHODS[str(ctx.info_name)]
        output.emit_json(
            {"method": method.schema(), "usage": helptext.synopsis(method)}, pretty=True
        )
        ctx.exit(0)


def _method_command(method: Method) -> click.Command:
    def callback(repo: str | None, pretty: bool | None, format: str | None, **raw: Any) -> None:
        ctx = click.get_current_context()
        params: dict[str, Any] = {}
        for param in method.params:
            value = raw.get(param.name)
            if param.kind == STRING_LIST:
                value = list(value) if value else None
            if value is not None:
                params[param.name] = value
        ctx.exit(
            run_method(method, params, _options(ctx, repo, pretty, format), from_command_line=True)
        )

    options: list[click.Parameter] = []
    for param in method.params:
        if param.kind == BOOLEAN:
            decl = f"{param.option}/--no-{param.option[2:]}"
            options.append(click.Option([decl], default=None, help=param.help))
        else:
            options.append(
                click.Option([param.option], multiple=param.kind == STRING_LIST, help=param.help)
            )
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
    command = click.Command(
        method.name, callback=callback, params=options, help=method.summary, add_help_option=False
    )
    return _global_options(command)


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
            source, text = "stdin", sys.stdin.read()
        elif text.startswith("@"):
            source = text[1:]
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}", {"path": source}) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{source}: malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            {"source": source},
        ) from None
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
    )
    @click.option("-C", "--repo", metavar="PATH", help="The repository.")
    @click.option("--pretty", is_flag=True, default=False, help="Indent the JSON.")
    @click.option("--format", "fmt", type=click.Choice(FORMATS), help="json or table.")
    @click.option("-h", "--help", "show_help", is_flag=True, help="Show the overview.")
    @click.pass_context
    def group(
        ctx: click.Context, repo: str | None, pretty: bool, fmt: str | None, show_help: bool
    ) -> None:
        ctx.obj = Options(repo, pretty, fmt)
        if show_help or ctx.invoked_subcommand is None:
            output.write(helptext.overview())
            ctx.exit(0)

    @group.command("call", add_help_option=False)
    @click.argument("method_name", metavar="METHOD")
    @click.option("--params", "params_text", metavar="JSON|@FILE|-", help="The parameters.")
    @click.pass_context
    def call(ctx: click.Context, method_name: str, params_text: str | None) -> None:
        """Call METHOD with its parameters as one JSON object."""
        method = lookup(method_name)
        params = _read_params(params_text)
        ctx.exit(run_method(method, params, ctx.obj, from_command_line=False))

    @group.command("methods", add_help_option=False)
    @click.pass_context
    def methods(ctx: click.Context) -> None:
        """Every method with the JSON Schema of its parameters and result."""
        options: Options = ctx.obj
        output.emit_json(
            {"methods": [method.schema() for method in METHODS.values()]}, options.pretty
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
