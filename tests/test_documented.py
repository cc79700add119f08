"""One test per documented number in the shipped specs (their ``expect`` sections).

Each expectation holds a value printed in a paper with its source and a tolerance
of half a unit of the last printed digit; where the printed value is a misprint or
an estimate, the spec holds the exact value in ``expected`` and says why.
"""
import functools

import pytest

from costcalc.analysis import check
from costcalc.lang.shipped import load, names


def _cases():
    cases = []
    for name in names():
        spec = load(name)
        for i, entry in enumerate(spec.expect):
            line = spec.expect.pos[i].line
            cases.append(pytest.param(name, i, id=f"{name}:{line}:{entry.get('metric')}"
                                      f":{entry.get('of', 'total')}"))
    return cases


@functools.lru_cache(maxsize=None)
def _results(name):
    return check.run(load(name), name)


@pytest.mark.parametrize("name, index", _cases())
def test_documented_number(name, index):
    result = _results(name)[index]
    assert result["passed"], (
        f"{result['what']}: documented {result['printed']} ({result['source']}), "
        f"checked against {result['expected']}, computed {result['computed']}")


def test_every_shipped_spec_documents_numbers_with_sources():
    for name in names():
        spec = load(name)
        assert len(spec.expect) > 0, name
        assert spec.source, name
        assert all(str(e["source"]).strip() for e in spec.expect), name


def test_a_misprint_keeps_the_printed_value_and_says_why():
    for name in names():
        for entry in load(name).expect:
            if "expected" in entry:
                assert str(entry["printed"]).strip() and len(str(entry["why"])) > 40
