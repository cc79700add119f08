"""``costcalc sweep``: the mult-adds and params of one spec over a grid of multipliers.

The spec is loaded once. Each width multiplier is built once (``graph.build``);
when the spec's expressions never look at the input's size (``resolution``,
``rho``, ``input_height/width``, ``in_height/width``), the graph's layers and
attributes cannot depend on it, so the other resolutions of that row only
re-run each layer's shape and cost formulas on the new input, which is several
times faster and gives the same numbers (tests/test_sweep.py holds the two
against each other). Otherwise, and whenever the re-run fails, every point is
a full build. A value given twice is one point; the points and the work (points x
layers) are limited (core.limits' points and layer_results, docs/errors.md); a long sweep
reports its progress to a callback (the command line draws it on a terminal's stderr; this
module draws nothing).
It takes numbers; the command line parses its option text. Output: output/sweep.py (table,
markdown, csv, json) and, with ``--plot``, output/plot.py.
"""
import re
from collections import Counter

from costcalc.analysis import pipeline
from costcalc.core.errors import SpecError
from costcalc.core.limits import LIMITS, quoted
from costcalc.core.model import Settings
from costcalc.core.shape import ShapeError, text
from costcalc.analysis.report import count_totals

PROGRESS_FROM = 500_000    # layer results from which progress is reported (~2 s)
SPATIAL_NAMES = frozenset(("resolution", "rho", "input_height", "input_width", "in_height",
                           "in_width"))
SCANNED_KEYS = ("params", "defaults", "blocks", "layers")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# ---------------------------------------------------------------- the grid

def uses_input_size(spec):
    """True if an expression of the spec may read the input's size (see the module doc)."""
    stack = [spec.tree.get(key) for key in SCANNED_KEYS]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and "$" in value:
            if SPATIAL_NAMES.intersection(_IDENTIFIER.findall(value)):
                return True
    return False


def _totals(graph, convention="paper"):
    if convention != "paper":
        from costcalc.counting.conventions import counts
        pairs = counts(graph, convention)
        return sum(m for m, _ in pairs), sum(p for _, p in pairs)
    totals = count_totals(graph.nodes)
    return totals["mult_adds"], totals["params"]


def _rerun(graph, images):
    """(mult_adds, params) of ``graph``'s layers, unchanged, on inputs of shapes ``images``
    (one per graph input)."""
    shapes = []
    mult_adds = params = 0
    for node in graph.nodes:
        inputs = [shapes[i] if i >= 0 else images[~i] for i in node.inputs]
        shape = node.type.shape(node.attrs, inputs)
        cost = node.type.cost(node.attrs, inputs, shape)
        if shape.elements > LIMITS["elements"] or max(
                cost.mult_adds, cost.params, cost.bn_params, cost.other_ops) > LIMITS["number"]:
            raise ShapeError("past a limit: a full build says where")
        shapes.append(shape)
        mult_adds += cost.mult_adds
        params += cost.params
    return mult_adds, params


def _build(spec, options, where):
    try:
        return pipeline.graph(spec, options)
    except SpecError as exc:
        raise SpecError(f"{exc.message} (sweep point {where})", exc.path, exc.line,
                        exc.col) from None


def points(spec, alphas, rhos=None, resolutions=None, overrides=None, convention="paper",
           progress=None):
    """The grid, alpha-major: [{"alpha", "rho", "resolution", "mult_adds", "params"}] (see
    ``_points``), computed with the garbage collector off, as the pipeline runs."""
    with pipeline.no_gc():
        return _points(spec, alphas, rhos, resolutions, overrides, convention, progress)


def _points(spec, alphas, rhos=None, resolutions=None, overrides=None, convention="paper",
           progress=None):
    """The grid, alpha-major: [{"alpha", "rho", "resolution", "mult_adds", "params"}].

    Give ``rhos`` or ``resolutions`` (input sides); with resolutions, ``rho`` is
    the side over the spec's own. A value given twice is one point, computed and listed
    where it first appears. At most LIMITS["points"] points and, with the first
    point's graph, LIMITS["layer_results"] points x layers. A sweep of PROGRESS_FROM
    layer results or more calls ``progress(done, total)`` (points), if given: with 0 once
    the first point is built, then after each point.
    """
    from costcalc.build.graph import input_shape

    alphas = list(dict.fromkeys(alphas))
    if resolutions:
        axis = [(side / spec.input[1], side) for side in dict.fromkeys(resolutions)]
    else:
        axis = [(rho, None) for rho in dict.fromkeys(rhos or [1.0])]
    total = len(alphas) * len(axis)
    if total > LIMITS["points"]:
        raise SpecError(f"the sweep has {total:,} points ({len(alphas):,} alphas x "
                        f"{len(axis):,} {'resolutions' if resolutions else 'rhos'}), more than "
                        f"the limit of {quoted('points')} (docs/errors.md)", "costcalc")
    reuse = not uses_input_size(spec) and convention == "paper"  # reruns count the paper's way
    base = pipeline.Options(overrides=overrides, convention=convention)
    result, report = [], None
    for alpha in alphas:
        graph = None
        for rho, side in axis:
            point = {"alpha": alpha, "rho": 1.0 if side else rho, "resolution": side}
            image = input_shape(spec, Settings(overrides=overrides, **point))
            where = f"alpha {alpha:g}, input {text(image.spatial)}"
            counts = None
            if graph is not None and reuse:
                try:
                    counts = _rerun(graph, [image])
                except ShapeError:  # a full build reports it at its line
                    counts = None
            if counts is None:
                built = _build(spec, base.replace(**point), where)   # the one pipeline
                if not result:   # the first point: always a full build
                    report = _check_work(total, len(built.nodes)) and progress
                    if report:
                        report(0, total)
                if graph is None:
                    graph = built
                counts = _totals(built, convention)
            result.append({"alpha": float(alpha), "rho": float(rho),
                           "resolution": image.height, "mult_adds": counts[0],
                           "params": counts[1]})
            if report:
                report(len(result), total)
    return result


def _check_work(total, layers):
    """Refuse ``total`` points of ``layers`` layers past LIMITS["layer_results"];
    return whether the work is long enough to report progress (PROGRESS_FROM)."""
    work = total * layers
    if work > LIMITS["layer_results"]:
        raise SpecError(f"the sweep would compute {work:,} layer results ({total:,} points x "
                        f"{layers:,} layers), more than the limit of "
                        f"{quoted('layer_results')} (docs/errors.md)", "costcalc")
    return work >= PROGRESS_FROM


def run(spec_arg, alphas=(), rhos=(), resolutions=(), overrides=None, convention="paper",
        progress=None):
    """Load the spec once and compute the grid of the numbers ``alphas`` (default 1),
    ``rhos`` or ``resolutions`` (input sides): a dict with the spec's name, how it was named,
    the axis ("rho" or "resolution"), the points and the values each list gives more than
    once ("repeated", by the lists' names: alpha, rho, resolution). ``progress`` as
    ``points``."""
    from costcalc.counting.conventions import get as get_convention
    from costcalc.lang.shipped import load

    alpha_list, rho_list, side_list = list(alphas) or [1.0], list(rhos), list(resolutions)
    if rho_list and side_list:
        raise SpecError("give rhos or resolutions, not both", "costcalc")
    get_convention(convention)
    spec = load(spec_arg)
    grid = points(spec, alpha_list, rho_list or None, side_list or None, overrides,
                  convention, progress)
    repeated = {name: [v for v, n in Counter(values).items() if n > 1]
                for name, values in (("alpha", alpha_list), ("rho", rho_list),
                                     ("resolution", side_list))}
    return {"name": spec.title(spec.resolve_params(overrides)), "spec": spec_arg,
            "convention": convention, "axis": "resolution" if side_list else "rho",
            "points": grid, "repeated": {k: v for k, v in repeated.items() if v}}
