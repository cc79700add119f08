"""The typed Python API (docs/api.md): ``analyze``, ``compare`` and ``sweep`` as functions.

``Report`` is the ``--format json`` dict itself (so ``report["totals"]["mult_adds"]`` and
``json.dumps(report)`` keep working) with typed, read-only views: ``report.totals``
(``Totals``), ``report.layers`` (``Layer``), ``report.by_type`` (``Group``)...
``report.to_dict()`` is the plain JSON dict. Bad arguments raise ``ValueError`` whose text is
the line the command line prints.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from typing import Any, Mapping, Optional, Sequence, Union

from costcalc.core.errors import SpecError, SpecErrors
from costcalc.core.shape import CHW, Shape

SpecArg = Union[str, "os.PathLike[str]", Mapping[str, Any]]
"""A spec: a path, a shipped name, YAML text or a dict."""

def _split(cls, data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of dataclass ``cls`` taken from the JSON dict ``data`` by name, and the
    keys it does not declare as ``extra``."""
    names = {f.name for f in fields(cls)} - {"extra"}
    values = {k: data[k] for k in names}
    values["extra"] = {k: v for k, v in data.items() if k not in names}
    return values


@dataclass(frozen=True)
class Layer:
    """One layer: its output shape (a CHW Shape: ``output.channels``, ``.height``, ``.width``,
    ``.elements``) and exact counts. ``extra`` holds the keys
    that options add (``flops``, ``explain``, the memory figures)."""
    name: str
    type: str
    category: str
    inputs: tuple[str, ...]
    output: Shape
    kernel: str
    stage: str
    line: int
    mult_adds: int
    params: int
    bn_params: int
    other_ops: int
    mult_adds_share: float
    params_share: float
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> "Layer":
        values = _split(cls, row)
        values["inputs"], values["output"] = tuple(row["inputs"]), CHW(row["output"])
        return cls(**values)


@dataclass(frozen=True)
class Totals:
    """The network's totals: mult-adds and params (weights + biases) of conv and fc layers;
    batch norm params and other ops apart; ``extra`` the keys options add."""
    mult_adds: int
    params: int
    bn_params: int
    other_ops: int
    layers: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def flops(self) -> int:
        """2 x mult-adds."""
        return 2 * self.mult_adds


@dataclass(frozen=True)
class Group:
    """A breakdown row: the layers of one type, stage or output size and their counts."""
    key: str
    layers: int
    mult_adds: int
    params: int
    bn_params: int
    other_ops: int
    mult_adds_share: float
    params_share: float


def _groups(items: Sequence[Mapping[str, Any]], key: str) -> list[Group]:
    names = [f.name for f in fields(Group) if f.name != "key"]
    return [Group(key=str(g[key]), **{k: g[k] for k in names}) for g in items]


class Report(dict):
    """The report of one spec: the ``--format json`` dict with typed views."""

    @property
    def name(self) -> str:
        return self["name"]

    @property
    def convention(self) -> str:
        return self["convention"]

    @property
    def alpha(self) -> float:
        return self["alpha"]

    @property
    def rho(self) -> float:
        return self["rho"]

    @property
    def input(self) -> Shape:
        """The input shape (a CHW Shape)."""
        return CHW(self["input"])

    @property
    def parameters(self) -> dict[str, Any]:
        """The spec's parameters as resolved (``classes``, ``groups``...)."""
        return dict(self["params"])

    @property
    def totals(self) -> Totals:
        t = self["totals"]
        return Totals(**_split(Totals, t))

    @property
    def layers(self) -> list[Layer]:
        return [Layer.from_dict(row) for row in self["layers"]]

    @property
    def by_type(self) -> list[Group]:
        return _groups(self["by_type"], "type")

    @property
    def by_stage(self) -> list[Group]:
        """Empty when no layer names a stage."""
        return _groups(self.get("by_stage", []), "stage")

    @property
    def by_resolution(self) -> list[Group]:
        return _groups(self["by_resolution"], "resolution")

    def layer(self, name: str) -> Layer:
        """The layer called ``name`` (``report.layer("conv1")``; ``report["conv1"]`` stays the
        JSON dict's keys). A wrong name raises KeyError naming the closest ones."""
        for row in self["layers"]:
            if row["name"] == name:
                return Layer.from_dict(row)
        from costcalc.core.errors import did_you_mean

        names = [row["name"] for row in self["layers"]]
        raise KeyError(f"no layer {name!r} in {self['name']}{did_you_mean(str(name), names)}")

    def to_dataframe(self) -> Any:
        """One row per layer (every key of ``--format json``'s layer rows, ``name`` first) as
        a pandas DataFrame; pandas is optional."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Report.to_dataframe needs pandas: pip install pandas "
                              "(or pip install 'costcalc[pandas]')") from None
        return pandas.DataFrame.from_records(list(self["layers"]))

    def _repr_html_(self) -> str:
        """An HTML table for Jupyter: the layers with mult-adds or params and the totals,
        exact counts, every name escaped."""
        from html import escape

        from costcalc.output.render import shape_text, shown_layers, title

        head = ("Layer", "Type", "Output", "Mult-adds", "Params")

        def row(cells, tag="td"):
            return "<tr>" + "".join(
                f'<{tag} style="text-align:{"left" if n < 3 else "right"}">{escape(str(c))}'
                f"</{tag}>" for n, c in enumerate(cells)) + "</tr>"

        t = self["totals"]
        shown = shown_layers(self, False)
        body = [row((r["name"], f"{r['type']} {r['kernel']}".rstrip(), shape_text(r["output"]),
                     f"{r['mult_adds']:,}", f"{r['params']:,}")) for r in shown]
        foot = row(("Total", "", "", f"{t['mult_adds']:,}", f"{t['params']:,}"), "th")
        hidden = t["layers"] - len(shown)
        note = (f"<p>{hidden:,} layers without mult-adds or params are not listed.</p>"
                if hidden else "")
        return (f"<table><caption>{escape(title(self))}</caption><thead>{row(head, 'th')}"
                f"</thead><tbody>{''.join(body)}</tbody><tfoot>{foot}</tfoot></table>{note}")

    def to_dict(self) -> dict[str, Any]:
        """The plain dict of ``costcalc SPEC --format json``."""
        return dict(self)

    def to_json(self, compact: bool = False) -> str:
        """The text of ``costcalc SPEC --format json`` (``--compact``), without the final
        line break: the command line's own writer (render.write_json)."""
        import io

        from costcalc.output.render import write_json

        out = io.StringIO()
        write_json(self, out, compact)
        return out.getvalue()[:-1]


@dataclass(frozen=True)
class Comparison:
    """Several reports side by side: ``labels[i]`` is the column title of ``reports[i]``."""
    labels: list[str]
    reports: list[Report]

    def to_dict(self) -> dict[str, Any]:
        """The dict of ``costcalc compare --format json``."""
        return {"reports": [r.to_dict() for r in self.reports]}


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: the multipliers, the input side and the totals."""
    alpha: float
    rho: float
    resolution: int
    mult_adds: int
    params: int


@dataclass(frozen=True)
class Sweep:
    """The totals of one spec over a grid of multipliers, alpha-major."""
    name: str
    spec: str
    convention: str
    axis: str
    points: list[SweepPoint]

    def to_dict(self) -> dict[str, Any]:
        """The dict of ``costcalc sweep --format json``."""
        return {"name": self.name, "spec": self.spec, "convention": self.convention,
                "points": [vars(p) for p in self.points]}


def analyze(spec: SpecArg, alpha: float = 1.0, rho: float = 1.0,
            resolution: Optional[int] = None, overrides: Optional[Mapping[str, Any]] = None,
            flops: bool = False, standard_conv: bool = False, explain: bool = False,
            convention: str = "paper", activation_bits: Optional[int] = None,
            weight_bits: Optional[int] = None, density: Optional[float] = None,
            index_bits: Optional[int] = None, hardware: Optional[str] = None) -> Report:
    """``costcalc SPEC``: the report of ``spec`` (a path, a shipped name, YAML text or a
    dict) at the width multiplier ``alpha`` and resolution multiplier ``rho`` (or input side
    ``resolution``), with ``overrides`` of the spec's parameters; ``standard_conv`` and
    ``explain`` as the options of the same names (docs/explain.md), ``convention`` a name of
    docs/conventions.md, the memory, model-size and roofline options as docs/memory.md."""
    from costcalc.analysis import pipeline

    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    try:
        options = pipeline.Options(
            alpha=alpha, rho=rho, resolution=resolution, overrides=overrides, flops=flops,
            standard_conv=standard_conv, explain=explain, convention=convention,
            activation_bits=activation_bits, weight_bits=weight_bits, density=density,
            index_bits=index_bits, hardware=hardware)
        return Report(pipeline.report(spec, options, text_ok=True))
    except SpecError as exc:
        raise in_library_words(exc) from None


_ARGUMENTS = {"set": "overrides"}   # options whose argument has another name


def in_library_words(error):
    """``error`` (a SpecError) as the library says it: each option of the command line
    named as the argument it is (``--activation-bits`` as ``activation_bits``, ``--set``
    as ``overrides``, compare's ``'SPEC...'`` as ``specs``)."""
    def words(e):
        message = re.sub(r"--(alpha|rho|resolution|flops|explain|standard-conv|convention|"
                         r"activation-bits|weight-bits|density|index-bits|hardware|set)\b",
                         lambda m: _ARGUMENTS.get(m.group(1), m.group(1).replace("-", "_")),
                         e.message).replace("'SPEC...'", "specs")
        return SpecError(message, e.path, e.line, e.col)

    if isinstance(error, SpecErrors):
        return SpecErrors([words(e) for e in error.errors])
    return words(error)


def _spec_name(spec: Any, where: str) -> str:
    """A path (text or os.PathLike) or a shipped name, as text; else a SpecError."""
    from costcalc.core.errors import show

    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    if not isinstance(spec, str):
        raise SpecError(f"{where} must be a path or a shipped name (text), not "
                        f"{show(spec) if isinstance(spec, (int, float)) else type(spec).__name__}",
                        "costcalc")
    return spec


def _grid(values: Any, name: str, integer: bool = False) -> list[Any]:
    """A list of the library's multipliers (``alphas``, ``rhos``) or input sides
    (``resolutions``), each checked as such (core.model.check_settings)."""
    from costcalc.core.errors import show
    from costcalc.core.model import check_settings, setting_range

    if values is None:
        return []
    if isinstance(values, (str, bytes, bytearray, Mapping)) or not isinstance(values, Sequence):
        raise SpecError(f"{name} must be a list of numbers, not {type(values).__name__}",
                        "costcalc")
    for i, value in enumerate(values):
        try:
            check_settings(1.0, 1.0, value) if integer else check_settings(value, 1.0, None)
        except SpecError:
            raise SpecError(f"{name}[{i}] must be {setting_range(integer)}, not "
                            f"{show(value)}", "costcalc") from None
    return [int(v) if integer else float(v) for v in values]


def _overrides(overrides: Any) -> dict[str, Any]:
    """The library's ``overrides``: a mapping of parameter name to a value that is data."""
    from costcalc.core.yamlload import check_data

    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise SpecError(f"overrides must be a mapping of parameter name to value, not "
                        f"{type(overrides).__name__}", "costcalc")
    check_data(dict(overrides), "overrides", "costcalc")
    return dict(overrides)


def compare(specs: Sequence[SpecArg], alpha: float = 1.0, rho: float = 1.0,
            resolution: Optional[int] = None, overrides: Optional[Mapping[str, Any]] = None,
            convention: str = "paper") -> Comparison:
    """``costcalc compare``: each of ``specs`` is a path or shipped name, optionally with
    ``@SETTINGS`` (``"mobilenet@alpha=0.5,rho=0.714"``, docs/compare.md); the other
    arguments apply to every column that does not set its own."""
    from costcalc.analysis import compare as compare_module
    from costcalc.core.model import check_settings

    if isinstance(specs, (str, bytes, Mapping)) or not isinstance(specs, Sequence) or not specs:
        raise SpecError("compare needs a list of one or more specs", "costcalc")
    names = [_spec_name(spec, f"specs[{i}]") for i, spec in enumerate(specs)]
    check_settings(alpha, rho, resolution)
    sets = _overrides(overrides)
    try:
        results = compare_module.run(names, alpha, rho, resolution, sets, convention)
    except SpecError as exc:
        raise in_library_words(exc) from None
    return Comparison([label for label, _ in results], [Report(r) for _, r in results])


def sweep(spec: SpecArg, alphas: Sequence[float] = (1.0,),
          rhos: Optional[Sequence[float]] = None, resolutions: Optional[Sequence[int]] = None,
          overrides: Optional[Mapping[str, Any]] = None, convention: str = "paper") -> Sweep:
    """``costcalc sweep``: the totals of ``spec`` (a path or shipped name) at every alpha
    and every rho (or input side in ``resolutions``), alpha-major."""
    from costcalc.analysis import sweep as sweep_module
    from costcalc.lang.shipped import load

    spec = _spec_name(spec, "spec")
    grids = _grid(alphas, "alphas"), _grid(rhos, "rhos"), _grid(resolutions, "resolutions", True)
    if grids[1] and grids[2]:
        raise SpecError("give rhos or resolutions, not both", "costcalc")
    sets = _overrides(overrides)
    load(spec).resolve_params(sets, "overrides")   # their problems named as the library's
    try:
        data = sweep_module.run(spec, *grids, sets, convention)
    except SpecError as exc:
        raise in_library_words(exc) from None
    return Sweep(data["name"], data["spec"], data["convention"], data["axis"],
                 [SweepPoint(**p) for p in data["points"]])
