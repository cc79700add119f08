"""``--explain``'s text (docs/explain.md): the report's formulas and depthwise separable
pairs (analysis.explain.annotate puts them in the report) as two sections after the table or
markdown; json and csv carry them in the report's rows."""
SYMBOLS = ("D_k kernel side (k_h * k_w if not square), M input channels, N output channels, "
           "D_f output side (H_o * W_o if not square), g groups, m depth multiplier")


def formula_lines(report):
    lines = []
    for row in report["layers"]:
        texts = row.get("explain") or {}
        parts = []
        if "mult_adds" in texts:
            parts.append(f"{texts['mult_adds']} mult-adds")
        if "params" in texts:
            parts.append(f"params {texts['params']}")
        if parts:
            lines.append(f"{row['name']}: " + "; ".join(parts))
    return lines


def pair_lines(report):
    lines = []
    for p in report["separable_pairs"]:
        c, h, w = p["output"]
        std = p["standard"]
        lines.append(
            f"{p['depthwise']} + {p['pointwise']} ({p['kernel']}, "
            f"{p['M']} -> {p['N']}, output {h}x{w}): separable {p['separable']['mult_adds']:,} "
            f"mult-adds, {p['separable']['params']:,} params; standard conv "
            f"{std['formula']['mult_adds']} mult-adds, {std['params']:,} params; "
            f"ratio {p['ratio']:.6f}, {p['predicted']['formula']} = "
            f"{p['predicted']['value']:.6f} ({'equal' if p['equal'] else 'differs'})")
    s = report["separable_summary"]
    if s["pairs"]:
        lines.append(
            f"{'All ' if s['pairs'] > 1 else ''}{s['pairs']} pair{'s' if s['pairs'] > 1 else ''}: "
            f"separable {s['separable']['mult_adds']:,} mult-adds vs "
            f"standard {s['standard']['mult_adds']:,} ({s['mult_adds_factor']:.2f}x fewer); "
            f"params {s['separable']['params']:,} vs {s['standard']['params']:,} "
            f"({s['params_factor']:.2f}x fewer)")
    return lines


def explain_sections(report):
    """[(title, lines)] of the text sections appended after the report."""
    pair_title = ("Depthwise separable pairs: separable cost vs the standard convolution "
                  "it replaces (D_k^2 * M * N * D_f^2, depthwise kernel and stride)")
    none = ("none: --standard-conv replaced them" if "standard_conv" in report
            else "none (no depthwise layer followed by a 1x1 convolution)")
    pairs = pair_lines(report) or [none]
    return [(f"Formulas ({SYMBOLS}); exact counts", formula_lines(report)),
            (pair_title, pairs)]


def render(report, fmt, out, **options):
    """The report in ``fmt`` with the explanations (see the module docstring); json and
    csv carry them in the report's rows (render.render_csv adds the formula columns). In
    a table, each line is wrapped at the terminal's width, numbers kept whole."""
    from costcalc.output.formats import TEXT
    from costcalc.output.render import RENDERERS, md_code, md_text
    from costcalc.output.textable import width, wrap

    RENDERERS[fmt](report, out, **options)
    if fmt not in TEXT:   # the formats --explain's sections are written for
        return
    for title, lines in explain_sections(report):
        if fmt == "markdown":
            out.write(f"\n#### {md_text(title)}\n\n" + "".join(f"- {md_code(line)}\n"
                                                               for line in lines))
        else:
            room = width()
            text = wrap(title, room) + [w for line in lines for w in wrap(line, room - 2, "    ")]
            out.write("\n" + "\n".join(text[:len(wrap(title, room))]) + "\n"
                      + "".join(f"  {w}\n" for w in text[len(wrap(title, room)):]))
