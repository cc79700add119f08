"""Who reads each output, declared once (docs/commands.md, "Options that do not apply").

For each option (by its parameter name; compare's --by is "sections"), the formats it does
something in; where another format always shows what it asks for, the note that says so;
and the formats whose writer reads each layer row once, in order, so that the rows may be
made as they are read (report.LayerRows). The command line refuses or notes an option from
these, and asks the pipeline for lazy rows from them.
"""
TEXT = ("table", "markdown")
APPLIES_TO = {
    "flops": TEXT + ("json", "csv"), "explain": TEXT + ("json", "csv"),
    "all_layers": TEXT, "by": TEXT, "depth": TEXT, "compact": ("json",),
    "activation_bits": TEXT + ("json", "csv"), "weight_bits": TEXT + ("json",),   # csv: the
    "density": TEXT + ("json",), "index_bits": TEXT + ("json",),    # per-layer fields only
    "hardware": TEXT + ("json", "csv"),
    "sections": TEXT + ("csv",), "layout": TEXT, "color": ("table",),
}
ALWAYS_SHOWN = {
    ("all_layers", "json"): "json lists every layer", ("all_layers", "csv"): "csv lists every layer",
    ("all_layers", "dot"): "dot draws every layer",
    ("all_layers", "mermaid"): "mermaid draws every layer",
    ("by", "json"): "json holds every breakdown (by_type, by_resolution, by_stage)",
    ("sections", "json"): "json holds each report whole, with every breakdown",
    ("layout", "csv"): "csv has one row per point", ("layout", "json"): "json has one item per point",
}
STREAMED = ("json", "csv")   # read each layer row once, in order (render_json, render_csv)


def idle(option, fmt):
    """Whether ``option`` does nothing in ``fmt``; if so, (why not: the note where ``fmt``
    always shows what it asks for, else None; the formats it is for). Else None.
    --color is for tables: no other format has escape codes."""
    formats = APPLIES_TO.get(option)
    if not formats or fmt in formats:
        return None
    shown = ALWAYS_SHOWN.get((option, fmt)) or (
        f"{fmt} never has escape codes" if option == "color" else None)
    return shown, formats
