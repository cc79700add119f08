"""``costcalc sweep --plot``: the sweep's points drawn as PNG or SVG through matplotlib (an
optional extra), docs/sweep.md."""
from costcalc.core.errors import SpecError
from costcalc.core.units import tick
from costcalc.output.sweep import _axis_values

PLOT_FORMATS = ("png", "svg")


def plot_format(path):
    """'png' or 'svg' from the file name's end, or None."""
    extension = path.rpartition(".")[2].lower() if "." in path else ""
    return extension if extension in PLOT_FORMATS else None


def plot(sweep, path):
    """Mult-adds against params on log axes, one line per alpha through its resolutions,
    thin dashed lines joining the same resolution across alphas (as the MobileNet
    paper's Figures 4 and 5 are drawn), written to ``path`` (a name that plot_format
    knows)."""
    fmt = plot_format(path)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SpecError("--plot needs matplotlib: pip install 'costcalc[plot]'",
                        "costcalc") from None

    alphas, columns = _axis_values(sweep)
    figure, axes = plt.subplots(figsize=(7.5, 5.5), dpi=100)
    for alpha in alphas:
        line = [p for p in sweep["points"] if p["alpha"] == alpha]
        axes.plot([p["params"] for p in line], [p["mult_adds"] for p in line], marker="o",
                  linewidth=1.5, label=f"alpha {alpha:g}")
    for rho, side in columns:
        line = [p for p in sweep["points"] if (p["rho"], p["resolution"]) == (rho, side)]
        if len(alphas) > 1:
            axes.plot([p["params"] for p in line], [p["mult_adds"] for p in line],
                      linestyle="--", linewidth=0.8, color="0.6", zorder=0)
        if len(columns) > 1:  # name the resolutions at the last alpha's points
            last = line[-1]
            axes.annotate(f"{side}px", (last["params"], last["mult_adds"]),
                          textcoords="offset points", xytext=(-9, 0), ha="right",
                          va="center", fontsize=8, color="0.35")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.margins(x=0.12, y=0.08)
    _log_ticks(axes.xaxis, *axes.get_xlim())
    _log_ticks(axes.yaxis, *axes.get_ylim())
    axes.set_xlabel("Parameters (weights + biases)")
    axes.set_ylabel("Mult-adds")
    axes.set_title(f"{sweep['name']}: mult-adds vs parameters")
    axes.grid(True, which="major", linewidth=0.5, color="0.85")
    axes.legend(title="width multiplier", fontsize=9)
    figure.tight_layout()
    metadata = {"Date": None} if fmt == "svg" else {}
    figure.savefig(path, format=fmt, metadata=metadata)
    plt.close(figure)


def _log_ticks(axis, low, high):
    """Ticks at 1, 2 and 5 times the powers of ten (only 1 over more than three
    decades, 1 to 9 within one), labelled '500K', '1M', '20M'."""
    import math

    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    decades = math.log10(high / low) if low > 0 and high > low else 0
    if decades > 3:
        subs = (1.0,)
    elif decades > 1:
        subs = (1.0, 2.0, 5.0)
    else:
        subs = tuple(float(m) for m in range(1, 10))
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda value, _: tick(value)))
    axis.set_minor_formatter(NullFormatter())

