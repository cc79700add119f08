"""The one pipeline: a spec and its settings, loaded, built, counted and annotated."""
import gc

from costcalc.analysis.report import make_report
from costcalc.build.graph import build
from costcalc.core.errors import SpecError, show
from costcalc.core.model import Settings
from costcalc.counting.conventions import get as get_convention
from costcalc.lang.shipped import load, load_given


def report(spec, alpha=1.0, rho=1.0, resolution=None, overrides=None, flops=False,
           standard_conv=False, explain=False, convention="paper", activation_bits=None,
           weight_bits=None, density=None, index_bits=None, hardware=None, lazy_rows=False,
           text_ok=False):
    """analyze's report as a plain dict; with ``lazy_rows`` (the JSON and CSV writers) its
    ``layers`` made as they are read (report.LayerRows), unless an option annotates them.
    ``spec`` may be YAML text or a dict only with ``text_ok`` (the library, never the
    command line: there a SPEC with a line break is a file name)."""
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
        result = make_report(graph, label, flops=flops, convention=convention,
                             lazy_rows=lazy_rows and not (standard_conv or explain or measured))
        if standard_conv or explain:
            from costcalc.analysis.explain import annotate   # imported when asked for
            annotate(result, graph, explain)
        if measured:
            from costcalc.analysis.memory import annotate
            annotate(result, graph, activation_bits, weight_bits, density, index_bits,
                     hardware)
        return result
    finally:
        if collecting:
            gc.enable()
