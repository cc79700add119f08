"""costcalc: analytical mult-add and parameter counts of convolutional networks.

Library use (docs/api.md)::

    from costcalc import analyze
    report = analyze("mobilenet", alpha=0.5, rho=0.714)
    report.totals.mult_adds            # typed views (costcalc.api) ...
    report["totals"]["mult_adds"]      # ... of the --format json dict
    costcalc.compare(["mobilenet", "shufflenet"]); costcalc.sweep("mobilenet", [1, 0.5])
"""
__version__ = "0.1.0"


def analyze(spec, alpha=1.0, rho=1.0, resolution=None, overrides=None, flops=False,
            standard_conv=False, explain=False, convention="paper", activation_bits=None,
            weight_bits=None, density=None, index_bits=None, hardware=None):
    """Load ``spec`` (a path, a shipped name, YAML text or a dict), build its graph, return
    the report (a costcalc.api.Report: the ``--format json`` dict with typed views;
    ``standard_conv`` and ``explain`` as the options of the same names, docs/explain.md;
    ``convention`` a name of docs/conventions.md; the memory, model-size and roofline
    options as docs/memory.md). Bad input raises ValueError (a costcalc.errors.SpecError)
    whose text is the line the command line prints."""
    from .api import Report
    from .errors import SpecError

    try:
        return Report(_report(spec, alpha, rho, resolution, overrides, flops, standard_conv,
                              explain, convention, activation_bits, weight_bits, density,
                              index_bits, hardware, text_ok=True))
    except SpecError as exc:
        raise in_library_words(exc) from None


_ARGUMENTS = {"set": "overrides"}   # options whose argument has another name


def in_library_words(error):
    """``error`` (a SpecError) as the library says it: each option of the command line
    named as the argument it is (``--activation-bits`` as ``activation_bits``, ``--set``
    as ``overrides``)."""
    import re

    from .errors import SpecError, SpecErrors

    def words(e):
        message = re.sub(r"--(alpha|rho|resolution|flops|explain|standard-conv|convention|"
                         r"activation-bits|weight-bits|density|index-bits|hardware|set)\b",
                         lambda m: _ARGUMENTS.get(m.group(1), m.group(1).replace("-", "_")),
                         e.message)
        return SpecError(message, e.path, e.line, e.col)

    if isinstance(error, SpecErrors):
        return SpecErrors([words(e) for e in error.errors])
    return words(error)


def _report(spec, alpha=1.0, rho=1.0, resolution=None, overrides=None, flops=False,
            standard_conv=False, explain=False, convention="paper", activation_bits=None,
            weight_bits=None, density=None, index_bits=None, hardware=None, lazy_rows=False,
            text_ok=False):
    """analyze's report as a plain dict; with ``lazy_rows`` (the JSON and CSV writers) its
    ``layers`` made as they are read (report.LayerRows), unless an option annotates them.
    ``spec`` may be YAML text or a dict only with ``text_ok`` (the library, never the
    command line: there a SPEC with a line break is a file name)."""
    import gc

    from .conventions import get as get_convention
    from .errors import SpecError, show
    from .graph import Settings, build
    from .report import make_report
    from .shipped import load, load_given

    collecting = gc.isenabled()
    gc.disable()  # many small objects, no cyclic garbage: the collector only slows it down
    try:
        get_convention(convention)   # the multipliers are checked by build
        for flag, value in (("flops", flops), ("standard_conv", standard_conv),
                            ("explain", explain)):
            if not isinstance(value, bool):
                raise SpecError(f"{flag} must be True or False, not {show(value)}", "costcalc")
        if hardware is not None and not isinstance(hardware, str):
            raise SpecError(f"hardware must be a profile name or a file path (text), not "
                            f"{show(hardware)}", "costcalc")
        if explain and convention != "paper":
            raise SpecError(f"--explain writes the paper convention's formulas; it does not "
                            f"combine with --convention {convention}", "costcalc")
        loaded, label = load_given(spec) if text_ok else (load(spec), spec)
        loaded.resolve_params(overrides, "overrides" if text_ok else "--set")  # its messages
        graph = build(loaded, Settings(alpha, rho, resolution, overrides,
                                       standard_conv=standard_conv))
        measured = any(v is not None for v in (activation_bits, weight_bits, density,
                                               index_bits, hardware))
        report = make_report(graph, label, flops=flops, convention=convention,
                             lazy_rows=lazy_rows and not (standard_conv or explain or measured))
        if standard_conv or explain:
            from .explain import annotate
            annotate(report, graph, explain)
        if measured:
            from . import memory
            memory.annotate(report, graph, activation_bits, weight_bits, density, index_bits,
                            hardware)
        return report
    finally:
        if collecting:
            gc.enable()


def _calls_api(module, function):
    """Make the module named ``module`` callable: ``costcalc.compare(...)`` calls
    costcalc.api.compare (docs/api.md). Importing a submodule binds its name on the
    package, so a plain function of that name would be replaced."""
    import sys
    import types

    class CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            from . import api
            return getattr(api, function)(*args, **kwargs)

    sys.modules[module].__class__ = CallableModule


_API = ("Report", "Layer", "Totals", "Group", "Comparison", "Sweep", "SweepPoint")


def __getattr__(name):
    """The typed API's classes, imported when first used (start-up stays small);
    ``costcalc.compare`` and ``costcalc.sweep`` are modules that can be called."""
    if name in _API:
        from . import api
        return getattr(api, name)
    if name in ("compare", "sweep"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'costcalc' has no attribute {name!r}")
