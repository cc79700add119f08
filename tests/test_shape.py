"""costcalc.core.shape: a shape's layout, sides, element count and text, and the graph's
named inputs and outputs. Values are recomputed here: element counts as products of the
sides, texts written out."""
import json
import pickle

import pytest

from costcalc.build.graph import Settings, build
from costcalc.core.shape import CHW, ShapeError, layout, text
from costcalc.lang.spec import spec_from_text


def spec(text_):
    return spec_from_text(text_, "t.yaml")


def test_a_chw_shape_has_its_sides_by_name_and_is_the_tuple_it_was():
    s = CHW((16, 80, 80))
    assert (s.layout, s.rank) == ("CHW", 3)
    assert (s.channels, s.height, s.width, s.spatial) == (16, 80, 80, (80, 80))
    assert s.elements == 16 * 80 * 80
    assert s == (16, 80, 80) and hash(s) == hash((16, 80, 80))
    c, h, w = s
    assert (c, h, w) == (16, 80, 80)
    assert json.dumps(s) == "[16, 80, 80]"          # the JSON of a shape is unchanged
    again = pickle.loads(pickle.dumps(s))
    assert type(again) is CHW and again == s and repr(again) == "(16, 80, 80)"


@pytest.mark.parametrize("dims, shown", [((16, 80, 80), "16x80x80"), ((3, 224, 224), "3x224x224"),
                                         ((1000, 1, 1), "1000x1x1")])
def test_the_text_of_a_shape(dims, shown):
    assert CHW(dims).text == str(CHW(dims)) == text(list(dims)) == shown


def test_other_layouts_name_their_own_sides_and_refuse_the_others():
    tokens = layout("ND")((197, 768))
    assert (tokens.tokens, tokens.features, tokens.elements, tokens.text) == (
        197, 768, 197 * 768, "197x768")
    for name in ("height", "width", "channels", "spatial", "frames"):
        with pytest.raises(ShapeError, match=f"layout ND \\(197x768\\) has no"):
            getattr(tokens, name)
    volume = layout("CTHW")((3, 16, 112, 112))
    assert (volume.channels, volume.frames, volume.spatial) == (3, 16, (16, 112, 112))
    assert volume.elements == 3 * 16 * 112 * 112
    assert volume.with_channels(64) == (64, 16, 112, 112)
    assert layout("CHW") is CHW                     # one class per layout
    with pytest.raises(ShapeError, match="no channels"):
        tokens.with_channels(3)


def test_a_shape_of_the_wrong_rank_or_a_bad_layout_is_refused():
    with pytest.raises(ShapeError, match="has 3 sides, not 2"):
        CHW.of((16, 80))
    assert CHW.of([3, 8, 8]) == (3, 8, 8) and type(CHW.of([3, 8, 8])) is CHW
    for bad in ("", "CC", "CXY"):
        with pytest.raises(ValueError, match="a layout is distinct letters"):
            layout(bad)


def test_every_node_shape_is_a_chw_shape_and_the_graph_names_its_inputs_and_outputs():
    graph = build(spec("name: t\ninput: [3, 32, 32]\nlayers:\n"
                       "  - {type: conv, k: 3, out: 8}\n"
                       "  - {type: concat, inputs: [conv1, input], name: both}\n"
                       "  - {type: global_avgpool}\n"), Settings(rho=0.5))
    assert graph.inputs == [("input", (3, 16, 16))]     # round(32 * 0.5) = 16
    assert graph.input_shape.layout == "CHW"
    conv, both, pool = graph.nodes
    assert [n.shape.layout for n in graph.nodes] == ["CHW"] * 3
    assert conv.shape == (8, 16, 16)                    # 'same' keeps 16 x 16
    assert both.shape == (8 + 3, 16, 16)                # concat: the channels add
    assert pool.shape == (8 + 3, 1, 1)
    assert both.inputs == [0, ~0]                       # ~0: the graph's first input
    assert [graph.name_of(i) for i in both.inputs] == ["conv1", "input"]
    assert graph.shape_of(~0) == (3, 16, 16)
    assert graph.outputs == [("global_avgpool1", 2)]    # the last node, by name


def test_a_graph_without_layers_outputs_its_input():
    graph = build(spec("name: t\ninput: [3, 8, 8]\nlayers:\n  - {type: relu, when: false}\n"))
    assert graph.nodes == []
    assert graph.outputs == [("input", ~0)]
