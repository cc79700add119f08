"""The memory, model-size and roofline options' text (docs/memory.md): the lines under the
table and the per-layer roofline table, from the keys analysis.memory.annotate adds."""
from costcalc.core.units import BYTE, exact_bytes, microseconds, milliseconds, size


def text_lines(report):
    """The lines printed under the table for the memory, model-size and roofline options."""
    totals, lines = report["totals"], []
    if "activation_peak_bytes" in totals:
        bits = report["activation_bits"]
        lines.append(f"Activation memory ({bits}-bit): peak {size(totals['activation_peak_bytes'])}"
                     f" ({exact_bytes(totals['activation_peak_bytes'])}) while {report['activation_peak_at']}"
                     f" runs, each tensor freed after its last reader.")
        cells = [f"{m['resolution']} {m['channels']} ch {exact_bytes(m['bytes'])}"
                 for m in report["materialized"]]
        lines.append(f"Largest tensor materialised per resolution (MobileNetV2 Table 3): "
                     f"{'; '.join(cells)}; max {exact_bytes(totals['materialized_max_bytes'])}.")
    if "model_bytes" in totals:
        m = report["model"]
        sparse = (f", density {m['density']:g}, {m['index_bits']}-bit indices"
                  if m["density"] < 1 else "")
        lines.append(f"Model size: {size(totals['model_bytes'])} ({exact_bytes(totals['model_bytes'])}:"
                     f" {m['weight_bits']}-bit weights{sparse}).")
    if "latency_s" in totals:
        hw = report["hardware"]
        rows = report["layers"]
        memory_bound = sum(1 for r in rows if r["bound"] == "memory")
        compute_bound = sum(1 for r in rows if r["bound"] == "compute")
        no_mult_adds = sum(1 for r in rows if r["arithmetic_intensity"] == 0)
        lines.append(f"Roofline estimate on {hw['name']} ({hw['title']}): "
                     f"{milliseconds(totals['latency_s'])}, an estimate (peak "
                     f"{hw['mult_adds_per_second']:.3g} mult-adds/s, "
                     f"{hw['bytes_per_second']:.3g} {BYTE}/s); {compute_bound} layers compute-bound, "
                     f"{memory_bound} memory-bound ({no_mult_adds} without mult-adds).")
    return lines


def roofline_cells(report):
    """(columns, text rows) of the per-layer roofline estimate (textable.Column)."""
    from costcalc.output.textable import Column

    columns = [Column("Layer", right=False, elide=True), Column("Bytes moved", keep=2),
               Column(f"MA/{BYTE}", keep=1), Column("Time (est.)"), Column("Bound", right=False)]
    rows = []
    for r in report["layers"]:
        if not r.get("latency_s"):
            continue
        intensity = r["arithmetic_intensity"]
        rows.append([r["name"], f"{r['bytes_moved']:,}",
                     "-" if intensity is None else f"{intensity:.2f}",
                     microseconds(r['latency_s']), r["bound"]])
    return columns, rows


def roofline_table(report, room):
    """The per-layer roofline estimate as a table that fits ``room`` columns (textable)."""
    from costcalc.output.textable import titled

    return titled(*roofline_cells(report), room)


def text(report, room):
    """Everything the memory options print under a table, wrapped at ``room`` columns."""
    from costcalc.output.textable import wrap

    lines = []
    for line in text_lines(report):
        lines += wrap(line, room)
    if "latency_s" in report["totals"]:
        lines += [""] + roofline_table(report, room)
    return lines
