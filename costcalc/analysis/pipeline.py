"""The one pipeline: a spec and its options, loaded, built, counted and annotated.

Every command and the library go through ``run`` (a loaded spec and its ``Options`` to the
graph and the annotated report: the report, analyze, check, compare), so that a new
annotation is wired here once; the sweep and export, which need the graph only, through
``graph``.
"""
import gc

from costcalc.analysis.report import make_report
from costcalc.build.graph import build
from costcalc.core.errors import SpecError, show
from costcalc.core.model import Settings
from costcalc.counting.conventions import DEFAULT, get as get_convention
from costcalc.lang.shipped import load, load_given


OPTIONS = {   # name: default; every one given by keyword
    "alpha": 1.0, "rho": 1.0, "resolution": None, "overrides": None, "flops": False,
    "standard_conv": False, "explain": False, "convention": "paper", "activation_bits": None,
    "weight_bits": None, "density": None, "index_bits": None, "hardware": None,
    "lazy_rows": False,
}


class Options:
    """What a report is asked for, a frozen value checked once when made: the settings
    (alpha, rho, resolution, overrides: checked where the graph is built, by
    core.model.check_settings), the convention, the annotations (flops, standard_conv,
    explain, the memory, model-size and roofline options of docs/memory.md) and
    ``lazy_rows`` (the writer reads each layer row once). A plain class, not a dataclass:
    importing dataclasses would add 10 ms to every start."""
    __slots__ = tuple(OPTIONS)

    def __init__(self, **given):
        unknown = set(given) - set(OPTIONS)
        if unknown:
            raise TypeError(f"Options has no {', '.join(sorted(unknown))}")
        for name, default in OPTIONS.items():
            object.__setattr__(self, name, given.get(name, default))
        if self.convention != DEFAULT:   # the papers' is always there (not loaded for it)
            get_convention(self.convention)
        for flag, value in (("flops", self.flops), ("standard_conv", self.standard_conv),
                            ("explain", self.explain)):
            if not isinstance(value, bool):
                raise SpecError(f"{flag} must be True or False, not {show(value)}", "costcalc")
        if self.hardware is not None and not isinstance(self.hardware, str):
            raise SpecError(f"hardware must be a profile name or a file path (text), not "
                            f"{show(self.hardware)}", "costcalc")
        if self.explain and self.convention != "paper":
            raise SpecError(f"--explain writes the paper convention's formulas; it does not "
                            f"combine with --convention {self.convention}", "costcalc")

    def __setattr__(self, name, value):
        raise AttributeError("Options are frozen: make new ones with replace()")

    def replace(self, **changes):
        """These options with ``changes``, checked again."""
        return Options(**{**{name: getattr(self, name) for name in OPTIONS}, **changes})

    def __eq__(self, other):
        return isinstance(other, Options) and all(
            getattr(self, name) == getattr(other, name) for name in OPTIONS)

    __hash__ = None

    def __repr__(self):
        return "Options(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in OPTIONS
                                      if getattr(self, name) != OPTIONS[name]) + ")"

    @property
    def settings(self):
        """The build's settings (core.model.Settings)."""
        return Settings(self.alpha, self.rho, self.resolution, self.overrides,
                        standard_conv=self.standard_conv)

    @property
    def memory(self):
        """The memory, model-size and roofline options, in memory.annotate's order."""
        return (self.activation_bits, self.weight_bits, self.density, self.index_bits,
                self.hardware)


def graph(spec, options):
    """The graph of ``spec`` (a loaded Spec) at the options' settings, every shape known."""
    return build(spec, options.settings)


def run(spec, options, label):
    """(graph, report) of ``spec`` (a loaded Spec; ``label`` is how the user named it):
    built at the options' settings, counted in their convention, annotated as they ask.
    The rows are lazy (report.LayerRows) only if asked and no annotation writes into them."""
    with no_gc():
        built = graph(spec, options)
        measured = any(v is not None for v in options.memory)
        annotated = options.standard_conv or options.explain or measured
        result = make_report(built, label, flops=options.flops, convention=options.convention,
                             lazy_rows=options.lazy_rows and not annotated)
        if options.standard_conv or options.explain:
            from costcalc.analysis.explain import annotate   # imported when asked for
            annotate(result, built, options.explain)
        if measured:
            from costcalc.analysis.memory import annotate
            annotate(result, built, *options.memory)
        return built, result


def report(spec, options, text_ok=False):
    """The report of ``spec`` (a path or a shipped name; YAML text or a dict too with
    ``text_ok``: the library, never the command line, where a SPEC with a line break is a
    file name) as a plain dict: ``costcalc SPEC`` and costcalc.analyze."""
    with no_gc():
        loaded, label = load_given(spec) if text_ok else (load(spec), spec)
        loaded.resolve_params(options.overrides, "overrides" if text_ok else "--set")
        return run(loaded, options, label)[1]


class no_gc:
    """Many small objects and no cyclic garbage: the collector only slows it down, so it is
    off inside (and left as it was after)."""

    def __enter__(self):
        self.collecting = gc.isenabled()
        gc.disable()

    def __exit__(self, *_):
        if self.collecting:
            gc.enable()
