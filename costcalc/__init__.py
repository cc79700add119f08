"""costcalc: analytical mult-add and parameter counts of convolutional networks.

Library use (docs/api.md)::

    from costcalc import analyze
    report = analyze("mobilenet", alpha=0.5, rho=0.714)
    report.totals.mult_adds            # typed views (costcalc.api) ...
    report["totals"]["mult_adds"]      # ... of the --format json dict
    costcalc.compare(["mobilenet", "shufflenet"]); costcalc.sweep("mobilenet", [1, 0.5])
"""
from costcalc.core import __version__  # noqa: F401 (the package version)


def analyze(spec, alpha=1.0, rho=1.0, resolution=None, overrides=None, flops=False,
            standard_conv=False, explain=False, convention="paper", activation_bits=None,
            weight_bits=None, density=None, index_bits=None, hardware=None):
    """``costcalc SPEC`` in the library: costcalc.api.analyze (docs/api.md). Bad input
    raises ValueError (a costcalc.SpecError) whose text is the line the command line
    prints."""
    from costcalc import api
    return api.analyze(spec, alpha, rho, resolution, overrides, flops, standard_conv, explain,
                       convention, activation_bits, weight_bits, density, index_bits, hardware)


def compare(specs, alpha=1.0, rho=1.0, resolution=None, overrides=None, convention="paper"):
    """``costcalc compare`` in the library: costcalc.api.compare (docs/api.md)."""
    from costcalc import api
    return api.compare(specs, alpha, rho, resolution, overrides, convention)


def sweep(spec, alphas=(1.0,), rhos=None, resolutions=None, overrides=None, convention="paper"):
    """``costcalc sweep`` in the library: costcalc.api.sweep (docs/api.md)."""
    from costcalc import api
    return api.sweep(spec, alphas, rhos, resolutions, overrides, convention)


_API = ("Report", "Layer", "Totals", "Group", "Comparison", "Sweep", "SweepPoint", "SpecError")


def __getattr__(name):
    """The typed API's classes and SpecError, imported when first used (start-up stays
    small)."""
    if name in _API:
        from costcalc import api
        return getattr(api, name)
    raise AttributeError(f"module 'costcalc' has no attribute {name!r}")
