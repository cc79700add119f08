"""Report: a layer by its name, an HTML table for Jupyter, a pandas DataFrame (docs/api.md)."""
import html.parser
import sys

import pytest

import costcalc

HOSTILE = '<script>alert("x")</script> & <b>'


@pytest.fixture(scope="module")
def mobilenet():
    return costcalc.analyze("mobilenet")


def test_a_layer_by_its_name(mobilenet):
    conv1 = mobilenet.layer("conv1")
    assert (conv1.output, conv1.mult_adds, conv1.params) == ((32, 112, 112),
                                                             3 * 3 * 3 * 32 * 112 * 112, 3 * 3 * 3 * 32)
    dw = mobilenet.layer("separable1/dw")
    assert dw.type == "depthwise" and dw.mult_adds == 3 * 3 * 32 * 112 * 112


def test_a_wrong_layer_name_is_a_key_error_with_the_closest_names(mobilenet):
    with pytest.raises(KeyError) as wrong:
        mobilenet.layer("conv_1")
    assert wrong.value.args[0] == "no layer 'conv_1' in MobileNet (did you mean 'conv1'?)"
    with pytest.raises(KeyError) as far:
        mobilenet.layer("zzzzzz")
    assert far.value.args[0] == "no layer 'zzzzzz' in MobileNet"
    with pytest.raises(KeyError):   # the brackets are the JSON dict's keys, not layer names
        mobilenet["conv1"]


class Cells(html.parser.HTMLParser):
    """The tags and the text of each cell (and the caption) of an HTML table."""

    def __init__(self):
        super().__init__()
        self.tags, self.cells, self.rows, self.caption = [], [], [], None
        self.text = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("td", "th", "caption"):
            self.text = ""
        if tag == "tr":
            self.cells = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.cells.append(self.text)
        elif tag == "caption":
            self.caption = self.text
        elif tag == "tr":
            self.rows.append(self.cells)
        self.text = None if tag in ("td", "th", "caption") else self.text

    def handle_data(self, data):
        if self.text is not None:
            self.text += data


def parsed(report):
    cells = Cells()
    cells.feed(report._repr_html_())
    return cells


def test_html_table_has_the_layers_and_exact_totals(mobilenet):
    cells = parsed(mobilenet)
    assert cells.rows[0] == ["Layer", "Type", "Output", "Mult-adds", "Params"]
    rows = {r[0]: r for r in cells.rows[1:-1]}
    assert rows["conv1"] == ["conv1", "conv 3x3/2", "32x112x112", f"{3*3*3*32*112*112:,}", "864"]
    with_counts = [r for r in mobilenet["layers"] if r["mult_adds"] or r["params"]]
    assert len(rows) == len(with_counts) == 28   # conv1, 13 x (dw, pw), fc
    assert cells.rows[-1] == ["Total", "", "", f"{mobilenet.totals.mult_adds:,}",
                              f"{mobilenet.totals.params:,}"]
    assert cells.caption.startswith("MobileNet (alpha 1, rho 1, input 3x224x224")


def test_html_escapes_hostile_names():
    spec = {"name": HOSTILE, "input": [3, 8, 8],
            "layers": [{"type": "conv", "k": 3, "out": 4, "name": HOSTILE + "1"},
                       {"type": "fc", "out": 2, "name": "x&y<z>"}]}
    report = costcalc.analyze(spec)
    text = report._repr_html_()
    assert "<script" not in text and "<b>" not in text
    cells = parsed(report)
    assert set(cells.tags) <= {"table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td"}
    assert [r[0] for r in cells.rows[1:-1]] == [HOSTILE + "1", "x&y<z>"]
    assert cells.caption.startswith(HOSTILE + " (")


def test_to_dataframe_without_pandas_names_the_install(monkeypatch, mobilenet):
    monkeypatch.setitem(sys.modules, "pandas", None)   # import pandas fails
    with pytest.raises(ImportError, match=r"pip install pandas"):
        mobilenet.to_dataframe()


def test_to_dataframe_has_one_row_per_layer():
    pytest.importorskip("pandas")
    report = costcalc.analyze("mobilenet", flops=True)
    frame = report.to_dataframe()
    assert len(frame) == report.totals.layers == 84   # conv1 with bn and relu 3, 13 x 6 separable, pool, fc, softmax 3
    assert list(frame.columns)[:2] == ["name", "type"] and "flops" in frame.columns
    assert int(frame["mult_adds"].sum()) == report.totals.mult_adds
    assert int(frame["params"].sum()) == report.totals.params
    row = frame.set_index("name").loc["separable1/pw"]
    assert int(row["mult_adds"]) == 32 * 64 * 112 * 112 and int(row["flops"]) == 2 * 32 * 64 * 112 * 112
