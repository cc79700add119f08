"""The ``costcalc`` command: click decorators and wiring only (docs/commands.md).

Every bad input ends here as one line on stderr and exit status 2:
``PATH:LINE:COL: error: MESSAGE`` for a spec, ``costcalc: error: MESSAGE``
for an option.
"""
import gc
import os
import sys

import click

from costcalc.core.breakdowns import BREAKDOWNS
from costcalc.core.errors import SpecError, one_line

FORMATS = ("table", "json", "csv", "markdown")
POSITIVE = click.FloatRange(min=0, min_open=True)


NB_HYPHEN = "\u2011"  # stands for '-' while click wraps the help, so words stay whole


class _Formatter(click.HelpFormatter):
    """click's help formatter, wrapping only between words: 'mult-adds' stays whole."""

    def write(self, string):
        super().write(string.replace(NB_HYPHEN, "-"))

    def write_text(self, text):
        super().write_text(text.replace("-", NB_HYPHEN))

    def write_dl(self, rows, *args, **kwargs):
        super().write_dl([(t, d.replace("-", NB_HYPHEN)) for t, d in rows], *args, **kwargs)


class _Context(click.Context):
    formatter_class = _Formatter


class _Command(click.Command):
    context_class = _Context


class _DefaultGroup(click.Group):
    """``costcalc SPEC ...`` means ``costcalc report SPEC ...``; the help lists the report's
    options too, and ``costcalc`` alone prints the help."""
    context_class = _Context
    command_class = _Command

    def parse_args(self, ctx, args):
        if not args and not ctx.resilient_parsing:  # shell completion parses resiliently
            click.echo(ctx.get_help())
            ctx.exit(0)
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["report"] + list(args)
        return super().parse_args(ctx, args)

    def format_usage(self, ctx, formatter):
        formatter.write_usage("costcalc", "SPEC [OPTIONS]\n       costcalc COMMAND [ARGS]...")

    def shell_complete(self, ctx, incomplete):
        """The first word: a command, or the report's SPEC (a shipped name, a file) and,
        after '-', the report's options too."""
        items = super().shell_complete(ctx, incomplete)
        if not incomplete.startswith("-"):
            return items + complete_spec(ctx, None, incomplete)
        given = {item.value for item in items}
        return items + [item for item in self.commands["report"].shell_complete(ctx, incomplete)
                        if item.value not in given]

    def format_commands(self, ctx, formatter):
        """Each command with its whole one-line description (click cuts it at '...'),
        wrapped at the width."""
        rows = [(name, self.commands[name].get_short_help_str(limit=10**6))
                for name in self.list_commands(ctx) if not self.commands[name].hidden]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def format_options(self, ctx, formatter):
        super().format_options(ctx, formatter)
        command = self.commands["report"]
        records = [r for r in (p.get_help_record(ctx) for p in command.get_params(ctx)) if r]
        with formatter.section("Report options (costcalc SPEC [OPTIONS])"):
            formatter.write_dl(records)


class _ReportCommand(_Command):
    """The report calls itself ``costcalc SPEC``, however it was reached."""

    def format_usage(self, ctx, formatter):
        formatter.write_usage("costcalc", "SPEC [OPTIONS]")


def _completions(names, incomplete, files=False):
    """CompletionItems of the ``names`` that begin with ``incomplete``; with ``files``, the
    shell's own completion of paths too."""
    from click.shell_completion import CompletionItem

    items = [CompletionItem(n) for n in names if n.startswith(incomplete)]
    return items + [CompletionItem(incomplete, type="file")] if files else items


def complete_spec(ctx, param, incomplete):
    """Shell completion of SPEC: every name `costcalc list` shows, and file paths."""
    from costcalc.lang import shipped

    if "/" in incomplete or "@" in incomplete:
        return _completions((), incomplete, files=True)
    return _completions(sorted(set(shipped.names()) | set(shipped.variants())), incomplete,
                        files=True)


def complete_convention(ctx, param, incomplete):
    from costcalc.counting.conventions import conventions

    return _completions(conventions(), incomplete)


def complete_hardware(ctx, param, incomplete):
    """The shipped hardware profiles, and file paths (a profile of your own)."""
    from costcalc.analysis import memory

    return _completions(memory._profiles(memory._HARDWARE), incomplete, files=True)


def refuse_idle_options(fmt):
    """Each option given on the command line that does nothing in ``fmt`` (output/formats.py):
    a usage error naming the formats it is for, or a note where ``fmt`` always shows what it
    asks for."""
    from click.core import ParameterSource

    from costcalc.output.formats import idle

    ctx = click.get_current_context()
    for param in ctx.command.params:
        why = idle(param.name, fmt)
        if why is None or ctx.get_parameter_source(param.name) in (
                None, ParameterSource.DEFAULT):
            continue
        option, (shown, formats) = param.opts[0], why
        if shown:
            click.echo(f"costcalc: note: {option} does nothing with --format {fmt}: {shown}",
                       err=True)
        else:
            from costcalc.output.render import listed
            raise click.UsageError(f"{option} does nothing with --format {fmt}: it is for "
                                   f"--format {listed(formats)}")


def parse_sets(values):
    """('groups=8', ...) -> {'groups': '8'}; a value without '=', or a name set twice, is a
    usage error."""
    overrides = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="'--set'")
        if name.strip() in overrides:
            raise click.BadParameter(f"{name.strip()} is set twice ({name.strip()}="
                                     f"{overrides[name.strip()]} and {item.strip()}); give "
                                     f"each parameter once", param_hint="'--set'")
        overrides[name.strip()] = value.strip()
    return overrides


def settings_options(func):
    """The options every command that analyses a spec shares."""
    options = [
        click.option("--alpha", type=POSITIVE, default=1.0, show_default=True,
                     help="Width multiplier: thins each widening layer's channels."),
        click.option("--rho", type=POSITIVE, default=1.0, show_default=True,
                     help="Resolution multiplier: input side = round(side * rho)."),
        click.option("--resolution", type=click.IntRange(min=1), default=None,
                     help="Input side in pixels (instead of --rho)."),
        click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
                     help="Override a parameter the spec declares (repeatable)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def convention_option(func):
    """--convention NAME: count as a tool counts (docs/conventions.md)."""
    return click.option(
        "--convention", default="paper", show_default=True, metavar="NAME",
        shell_complete=complete_convention,
        help="Count as a tool does: paper, torch, fvcore, ptflops, thop, torchinfo, keras "
             "(docs/conventions.md).")(func)


def _set_color(ctx, param, value):
    """textable.COLOR = value, without importing textable for nothing (start-up time)."""
    if value != "auto" or "costcalc.output.textable" in sys.modules:
        from costcalc.output import textable

        textable.COLOR = value


def color_option(func):
    """--color auto|always|never: the escape codes of tables (textable.styled)."""
    return click.option(
        "--color", type=click.Choice(("auto", "always", "never")), default="auto",
        show_default=True, expose_value=False, callback=_set_color,
        help="Bold headers and red failures in tables: auto (on a terminal, unless NO_COLOR "
             "is set; FORCE_COLOR forces them), always or never.")(func)


def memory_options(func):
    """Activation memory, model size and the roofline estimate (docs/memory.md)."""
    from costcalc.core.limits import LIMITS

    options = [
        click.option("--activation-bits", type=click.Choice(("32", "16", "8")), default=None,
                     help="Activation memory at this precision: per layer, the peak of "
                          "running in order, and the largest tensor per resolution."),
        click.option("--weight-bits", type=click.IntRange(1, LIMITS["bits"]), default=None,
                     help="Model size with weights of this many bits."),
        click.option("--density", type=float, default=None,
                     help="Model size keeping this fraction of the weights (0 < d <= 1)."),
        click.option("--index-bits", type=click.IntRange(0, LIMITS["bits"]), default=None,
                     help="Model size: bits to store each kept weight's position."),
        click.option("--hardware", default=None, metavar="NAME|FILE.yaml",
                     shell_complete=complete_hardware,
                     help="Roofline latency estimate on a profile (phone, ...) or your file."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def analyse(spec_arg, alpha, rho, resolution, sets, flops=False, standard_conv=False,
            explain=False, convention="paper", memory=None, lazy_rows=False):
    """The report of one spec as the options ask for it (costcalc.analyze)."""
    from costcalc.analysis.pipeline import Options, report

    memory = dict(memory or {})
    if memory.get("activation_bits") is not None:
        memory["activation_bits"] = int(memory["activation_bits"])
    return report(spec_arg, Options(alpha=alpha, rho=rho, resolution=resolution,
                                    overrides=parse_sets(sets), flops=flops,
                                    standard_conv=standard_conv, explain=explain,
                                    convention=convention, lazy_rows=lazy_rows, **memory))


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="costcalc", message="costcalc %(version)s")
def cli():
    """Analytical mult-add and parameter counts of convolutional networks.

    costcalc SPEC [options] prints the per-layer report of SPEC, a YAML file or
    the name of a shipped spec (costcalc list shows them).
    """


@cli.command(cls=_ReportCommand)
@click.argument("spec", shell_complete=complete_spec)
@settings_options
@click.option("--format", "fmt", type=click.Choice(FORMATS + ("dot", "mermaid")),
              default="table", show_default=True,
              help="dot and mermaid draw the layer graph (docs/graph.md).")
@click.option("--flops", is_flag=True,
              help="Add a FLOPs column and total (2 x mult-adds), labelled as such.")
@click.option("--all-layers", is_flag=True,
              help="Table and markdown: also list layers without mult-adds or params, with "
                   "columns for batch norm params and other ops.")
@click.option("--explain", is_flag=True,
              help="Each layer's cost formula with its values, and each depthwise separable "
                   "pair beside the standard convolution it replaces (docs/explain.md).")
@click.option("--standard-conv", is_flag=True,
              help="Replace every depthwise separable pair by one standard convolution "
                   "(MobileNet's 'Conv MobileNet', docs/explain.md).")
@click.option("--by", "by", multiple=True, type=click.Choice(tuple(BREAKDOWNS)),
              help="Table and markdown: breakdowns under the table (repeatable; default: type).")
@click.option("--depth", type=click.IntRange(min=1), default=None, metavar="N",
              help="Table and markdown: fold layers into one row per block, the first N "
                   "parts of their names ('stage4/block3' at 2), with subtotals.")
@click.option("--compact", is_flag=True, help="JSON without spaces or line breaks.")
@convention_option
@memory_options
@color_option
def report(spec, alpha, rho, resolution, sets, fmt, flops, all_layers, explain, standard_conv,
           by, depth, compact, convention, activation_bits, weight_bits, density, index_bits,
           hardware):
    """The per-layer report and totals of one architecture."""
    from costcalc.output.formats import STREAMED
    from costcalc.output.render import RENDERERS

    memory = {"activation_bits": activation_bits, "weight_bits": weight_bits,
              "density": density, "index_bits": index_bits, "hardware": hardware}
    data = analyse(spec, alpha, rho, resolution, sets, flops, standard_conv, explain,
                   convention, memory, lazy_rows=fmt in STREAMED)
    refuse_idle_options(fmt)   # after the spec's and the values' own errors
    options = {"all_layers": all_layers, "by": by or ("type",), "depth": depth,
               "compact": compact}
    if explain:
        from costcalc.output.explain import render
        render(data, fmt, sys.stdout, **options)
    else:
        RENDERERS[fmt](data, sys.stdout, **options)
    if fmt == "table" and any(v is not None for v in memory.values()):   # markdown: its own
        from costcalc.output.memory import text
        from costcalc.output.textable import width
        sys.stdout.write("\n" + "\n".join(text(data, width())) + "\n")


@cli.command(name="check")
@click.argument("paths", nargs=-1, shell_complete=complete_spec)
@click.option("--format", "fmt", type=click.Choice(("table", "json", "junit", "github")),
              default="table", show_default=True)
@color_option
def check_command(paths, fmt):
    """Recompute every documented number in the specs (default: the shipped ones).

    PATHS are spec files, shipped spec names or folders (their *.yaml files).

    Exit status 1 if any is outside its tolerance, 2 if a spec could not be checked
    (each such problem is also one line on stderr).
    """
    from costcalc.analysis import check
    from costcalc.lang import shipped
    from costcalc.output.progress import Bar
    from costcalc.output.check import CHECK_RENDERERS

    refuse_idle_options(fmt)
    with Bar("check", "specs") as bar:
        results = check.check_all(paths or shipped.names(), progress=bar)
    CHECK_RENDERERS[fmt](results, sys.stdout)
    sys.stdout.flush()
    if fmt != "table" or not _same_file(sys.stdout, sys.stderr):  # a table shows them
        for r in results:
            if r["error"]:
                click.echo(str(SpecError(r["error"], r["path"], r["line"], r["col"])), err=True)
    return check.status(results)


def _same_file(one, other):
    """Whether two streams write to the same file (a terminal, or ``> log 2>&1``)."""
    try:
        return os.path.samestat(os.fstat(one.fileno()), os.fstat(other.fileno()))
    except (OSError, ValueError, AttributeError):
        return False


@cli.command(name="compare")
@click.argument("specs", nargs=-1, required=True, metavar="SPEC[@SETTINGS]...",
                shell_complete=complete_spec)
@settings_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--by", "sections", multiple=True,
              type=click.Choice(tuple(BREAKDOWNS)),
              help="Breakdowns to show (repeatable; default: type, then stage or resolution).")
@convention_option
@color_option
def compare_command(specs, alpha, rho, resolution, sets, fmt, sections, convention):
    """Several architectures, or one at several settings, side by side.

    SPEC@alpha=0.5,rho=0.714,groups=8,convention=fvcore gives a column its own settings
    (docs/compare.md); the options apply to every column unless it overrides them.
    """
    from costcalc.analysis.compare import run
    from costcalc.output.compare import RENDERERS

    refuse_idle_options(fmt)
    RENDERERS[fmt](run(specs, alpha, rho, resolution, parse_sets(sets), convention),
                   sys.stdout, sections=sections)


@cli.command(name="sweep")
@click.argument("spec", shell_complete=complete_spec)
@click.option("--alpha", "alphas", multiple=True, metavar="LIST",
              help="Width multipliers, comma-separated (default 1).")
@click.option("--rho", "rhos", multiple=True, metavar="LIST",
              help="Resolution multipliers, comma-separated (default 1).")
@click.option("--resolution", "resolutions", multiple=True, metavar="LIST",
              help="Input sides in pixels, comma-separated (instead of --rho).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override a parameter the spec declares (repeatable).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--layout", type=click.Choice(("grid", "long")), default="grid", show_default=True,
              help="Table and markdown: an alpha x rho grid, or one row per point.")
@click.option("--plot", "plot_path", metavar="FILE.png|FILE.svg",
              help="Also draw mult-adds against params, one line per alpha (needs matplotlib).")
@convention_option
@color_option
def sweep_command(spec, alphas, rhos, resolutions, sets, fmt, layout, plot_path, convention):
    """The mult-adds and params of SPEC over a grid of multipliers (docs/sweep.md)."""
    from costcalc.analysis import sweep
    from costcalc.output.progress import Bar
    from costcalc.output.sweep import RENDERERS

    refuse_idle_options(fmt)
    overrides = parse_sets(sets)
    if plot_path:
        from costcalc.output.plot import plot, plot_format
        if not plot_format(plot_path):
            raise click.BadParameter(f"{plot_path!r}: the file name must end in .png or .svg",
                                     param_hint="'--plot'")
    numbers = {"alpha": parse_list(alphas, "--alpha"), "rho": parse_list(rhos, "--rho"),
               "resolution": parse_list(resolutions, "--resolution", integer=True)}
    if numbers["rho"] and numbers["resolution"]:
        raise click.BadParameter("give --rho or --resolution, not both",
                                 param_hint="'--resolution'")
    with Bar("sweep", "points") as bar:
        grid = sweep.run(spec, numbers["alpha"], numbers["rho"], numbers["resolution"],
                         overrides, convention, progress=bar)
    for name, values in grid["repeated"].items():
        click.echo(f"costcalc: note: --{name} gives {', '.join(f'{v:g}' for v in values[:6])}"
                   f"{', ...' if len(values) > 6 else ''} more than once; each point is "
                   f"computed and listed once", err=True)
    if plot_path:
        plot(grid, plot_path)
        click.echo(f"costcalc: wrote {plot_path}", err=True)
    RENDERERS[fmt](grid, sys.stdout, layout=layout)


def parse_list(values, option, integer=False):
    """('1,0.75', '0.5') -> [1.0, 0.75, 0.5]: a sweep's option text as numbers; anything
    else is a bad value of ``option``."""
    from costcalc.core.model import setting_from_text

    numbers = []
    for value in values:
        for item in value.split(","):
            item = item.strip()
            number = setting_from_text(item, integer)
            if number is None:
                kind = "a positive whole number" if integer else "a positive number"
                raise click.BadParameter(f"{item!r} is not {kind} (expected a comma-separated "
                                         f"list such as {'224,192,160' if integer else '1,0.5'})",
                                         param_hint=f"'{option}'")
            numbers.append(number)
    return numbers


@cli.command(name="schema")
def schema_command():
    """The JSON Schema of the spec language (for editors; docs/spec-language.md)."""
    import json

    from costcalc.lang.schema import schema

    click.echo(json.dumps(schema(), indent=2))


@cli.command(name="export")
@click.argument("spec", shell_complete=complete_spec)
@settings_options
@click.option("--torch", "torch_path", required=True, metavar="FILE.py",
              help="Write standalone PyTorch source of the built network to FILE.py "
                   "('-': standard output).")
def export_command(spec, alpha, rho, resolution, sets, torch_path):
    """Write SPEC as a PyTorch nn.Module that needs only torch (docs/torch.md)."""
    from costcalc.interop.export import write_torch

    graph = write_torch(spec, torch_path, alpha, rho, resolution, parse_sets(sets), sys.stdout)
    if torch_path != "-":
        click.echo(f"wrote {torch_path}: {len(graph.nodes)} layers, input "
                   f"{graph.input_shape.text}")


@cli.command(name="list")
def list_command():
    """The shipped specs and the variants of the family specs, one line each."""
    from costcalc.lang import shipped
    from costcalc.output.textable import clip, width

    lines = []
    for name in shipped.names():
        spec = shipped.load(name)
        lines.append((name, f"{spec.title(spec.resolve_params())}: {spec.source}"))
        lines += [(variant.name, f"{name} family: {variant.describe()}")
                  for variant in spec.variants.values()
                  if variant.name != name]  # googlenet is both a file and its one variant
    names = max(len(name) for name, _ in lines)
    for name, description in lines:  # the name whole; the description cut to fit
        click.echo(f"{name:<{names}}  {clip(description, width() - names - 2)}")


def _close_quietly(stream):
    """Drop what could not be written, so that exiting does not try again."""
    try:
        stream.close()
    except OSError:
        pass
    try:
        sys.stdout = open(os.devnull, "w")
    except OSError:
        pass


def main(argv=None):
    """Run the CLI; turn every input error into one line and exit status 2."""
    gc.disable()  # a short run that makes many small objects and no cyclic garbage
    for stream in (sys.stdout, sys.stderr):  # an ASCII-only terminal gets escapes, not a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        status = cli.main(args=argv, prog_name="costcalc", standalone_mode=False)
        sys.stdout.flush()
    except SpecError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    except click.exceptions.UsageError as exc:
        click.echo(f"costcalc: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("costcalc: aborted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (costcalc ... | head): not an error
        sys.exit(0)
    except OSError as exc:  # a full disk, a closed stream: the output could not be written
        _close_quietly(sys.stdout)
        click.echo(f"costcalc: error: cannot write the output: {exc.strerror or exc}", err=True)
        sys.exit(2)
    except (RecursionError, MemoryError) as exc:  # last guards: known cases are refused earlier
        click.echo(f"costcalc: error: the input is too large or too deep to analyse "
                   f"({type(exc).__name__})", err=True)
        sys.exit(2)
    except Exception as exc:  # a bug: one line that says so, never a traceback
        click.echo(f"costcalc: error: internal error, please report it with the input: "
                   f"{type(exc).__name__}: {one_line(exc)[:200]}", err=True)
        sys.exit(2)
    sys.exit(status if isinstance(status, int) else 0)
