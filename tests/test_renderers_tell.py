"""What the renderers write (issues 15 and 16): summaries that describe the convention
counted, names that stay unique when shortened, every section in every format, titles
that fit, labels that parsers read as text, CSV cells that spreadsheets do not run, and no
raw control character in any row, cell or label."""
import json
import re

import pytest

from conftest import ROOT

TOOLS = json.loads((ROOT / "tests" / "data" / "tool_counts.json").read_text())["models"]

# ResNet-50's batch norm channels (torchvision): stem 64; per bottleneck bn1, bn2 (width w)
# and bn3 (4w); one downsample bn (4w) per stage; widths 64..512, blocks 3, 4, 6, 3.
BN_CHANNELS = 64 + sum(n * 6 * w + 4 * w for n, w in ((3, 64), (4, 128), (6, 256), (3, 512)))
BN_PARAMS = 2 * BN_CHANNELS                      # scale and shift: 53,120
TORCHVISION_PARAMS = TOOLS["resnet50"]["fvcore"]["params"]   # every nn.Parameter
FC_BIASES = 1000
# the papers' mult-adds, from torchinfo's measured count: it adds each bias once per
# output element (only the fc has biases) and counts a BatchNorm2d's 2C affine values
PAPER_MULT_ADDS = TOOLS["resnet50"]["torchinfo"]["mult_adds"] - FC_BIASES - BN_PARAMS

MEASURED = {   # (mult-adds, params) each tool reports on torchvision's resnet50
    "paper": (PAPER_MULT_ADDS, TORCHVISION_PARAMS - BN_PARAMS),
    "torch": (PAPER_MULT_ADDS, TORCHVISION_PARAMS),
    "fvcore": (TOOLS["resnet50"]["fvcore"]["flops"], TOOLS["resnet50"]["fvcore"]["params"]),
    "ptflops": (TOOLS["resnet50"]["ptflops"]["macs"], TOOLS["resnet50"]["ptflops"]["params"]),
    "thop": (TOOLS["resnet50"]["thop"]["macs"], TOOLS["resnet50"]["thop"]["params"]),
    "torchinfo": (TOOLS["resnet50"]["torchinfo"]["mult_adds"],
                  TOOLS["resnet50"]["torchinfo"]["params"]),
    # Keras' ResNet50 has 25,636,712: torchvision's plus 26,560 conv biases (use_bias)
    # plus the running mean and variance (BN_PARAMS more), without those biases here
    "keras": (PAPER_MULT_ADDS, 25_636_712 - BN_CHANNELS),
}


def summary(out):
    """The summary lines (from 'Total:' on) joined into one paragraph."""
    text = out[out.index("\nTotal: ") + 1:]
    return " ".join(line.strip() for line in text.splitlines())


def number(text):
    return int(text.replace(",", ""))


@pytest.mark.parametrize("fmt", ["table", "markdown"])
@pytest.mark.parametrize("convention", sorted(MEASURED))
def test_summary_describes_the_convention(run_cli, convention, fmt):
    """The totals' own words add up to the tool's measured numbers: the papers'
    mult-adds plus what the convention counts beside them; weights + biases plus the
    batch norm params it counts; and 'Not in the totals' names only what is left out."""
    result = run_cli("resnet50", "--convention", convention, "--format", fmt)
    assert result.code == 0, result.err
    text = summary(result.out)
    mult_adds, params = MEASURED[convention]
    found = re.search(r"Total: \S+ mult-adds \(([\d,]+)(?:: ([\d,]+) of conv and fc layers "
                      r"([+-]) ([\d,]+) that the (\w+) convention counts in [^)]+)?\) and \S+ "
                      r"params \(([\d,]+): weights \+ biases(?: \+ ([\d,]+) [^)]*batch norm "
                      r"params)?\)\.", text)
    assert found, text
    assert number(found[1]) == mult_adds
    if mult_adds != PAPER_MULT_ADDS:
        assert number(found[2]) == PAPER_MULT_ADDS and found[5] == convention
        assert number(found[2]) + int(found[3] + "1") * number(found[4]) == mult_adds
    else:
        assert found[2] is None
    assert number(found[6]) == params
    in_params = number(found[7]) if found[7] else 0
    # Keras stores 4 values per channel for each 2 params: twice BN_PARAMS
    assert in_params == {"paper": 0, "keras": 2 * BN_PARAMS}.get(convention, BN_PARAMS)
    assert params - in_params == TORCHVISION_PARAMS - BN_PARAMS   # the weights and biases
    left_out = re.search(r"Not in the totals: (.*?)\.(?: |$)", text)
    assert left_out, text
    assert ("batch norm params" in left_out[1]) == (convention == "paper"), left_out[1]
    if convention == "paper":
        assert f"({BN_PARAMS:,})" in left_out[1]
    # a layer whose ops the convention counts is not called left out
    for category in ("batchnorm", "relu", "maxpool", "adaptive_avgpool"):
        counted = convention == "ptflops" or (   # docs/conventions.md, "Why the tools differ"
            convention in ("fvcore", "thop") and category in ("batchnorm", "adaptive_avgpool")
        ) or (convention == "torchinfo" and category == "batchnorm")   # its 2C affine values
        assert (category in left_out[1]) == (not counted), (category, left_out[1])


def test_compare_and_sweep_notes_name_the_convention(run_cli):
    """The note under compare and sweep says what the convention counts, not the papers'
    'weights + biases' alone."""
    result = run_cli("sweep", "resnet50", "--alpha", "1,0.5", "--convention", "fvcore")
    assert result.code == 0, result.err
    text = " ".join(result.out.split())
    assert "Under the fvcore convention:" in text and "batch norm's scale and shift" in text
    assert "params: their weights + biases" not in text
    result = run_cli("compare", "resnet50", "resnet50@convention=ptflops")
    text = " ".join(result.out.split())
    assert "params: their weights + biases" in text and "Under the ptflops convention:" in text


def layer_names(out):
    """The first cell of each line between the first table's two rules."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("─"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("─"))
    return [line.split("  ")[0] for line in lines[start + 1:end]]


def shipped_and_deep():
    from costcalc.shipped import names, variants

    return list(dict.fromkeys([*names(), *variants()])) + [str(ROOT / "tests" / "specs" /
                                                            "deep_nesting.yaml")]


def test_shortened_names_stay_unique(monkeypatch):
    """At 60, 80 and 140 columns, over every shipped spec and a deep nesting (GhostNet-like
    stage/bottleneck/ghost_expand|ghost_project/primary, whose segments without digits gave
    way alike): every row's name is a shortening of its own name only (its kept text in
    order, '…' for what gave way), no two rows print the same, every line fits."""
    import io

    from costcalc import analyze
    from costcalc.render import render_table

    bad = []
    for spec in shipped_and_deep():
        report = analyze(spec)
        full = [row["name"] for row in report["layers"]]
        for columns in (60, 80, 140):
            monkeypatch.setenv("COLUMNS", str(columns))
            out = io.StringIO()
            render_table(report, out, all_layers=True, by=())
            assert max(map(len, out.getvalue().splitlines())) <= columns, (spec, columns)
            printed = layer_names(out.getvalue())
            assert len(printed) == len(full), (spec, columns)
            for shown, name in zip(printed, full):
                pattern = ".*".join(map(re.escape, shown.split("…")))
                assert re.fullmatch(pattern, name), (spec, columns, shown, name)
            if len(set(printed)) != len(printed):
                bad.append((spec, columns, len(printed) - len(set(printed))))
    assert not bad
