"""costcalc: analytical mult-add and parameter counts of convolutional networks.

Library use::

    from costcalc import analyze
    report = analyze("mobilenet", alpha=0.5, rho=0.714)
    report["totals"]["mult_adds"]
"""
__version__ = "0.1.0"


def analyze(spec, alpha=1.0, rho=1.0, resolution=None, overrides=None, flops=False):
    """Load ``spec`` (a path or a shipped name), build its graph, return the report dict."""
    import gc

    from .graph import Settings, build
    from .report import make_report
    from .shipped import load

    collecting = gc.isenabled()
    gc.disable()  # many small objects, no cyclic garbage: the collector only slows it down
    try:
        graph = build(load(spec), Settings(alpha, rho, resolution, overrides))
        return make_report(graph, str(spec), flops=flops)
    finally:
        if collecting:
            gc.enable()
