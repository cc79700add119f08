"""The specs shipped with the package (``specs/*.yaml``) and how names resolve to them.

A name is a spec file (``mobilenet``, ``mobilenet.yaml``) or a variant a family spec
declares under ``variants:`` (``resnet50`` in ``resnet.yaml``).
"""
import os

from .errors import SpecError, did_you_mean
from .spec import load_spec

_HERE = os.path.dirname(os.path.abspath(__file__))


def specs_dir():
    """``costcalc/specs`` when installed; the checkout's top-level ``specs/`` otherwise."""
    for candidate in (os.path.join(_HERE, "specs"), os.path.join(os.path.dirname(_HERE), "specs")):
        if os.path.isdir(candidate):
            return candidate
    return os.path.join(_HERE, "specs")


def names():
    """Names of the shipped spec files, sorted."""
    try:
        return sorted(f[:-5] for f in os.listdir(specs_dir()) if f.endswith(".yaml"))
    except OSError:
        return []


def variants():
    """{variant name: (family file name, Variant)} over every shipped spec, sorted."""
    found = {}
    for family in names():
        for name, variant in load(family).variants.items():
            found[name] = (family, variant)
    return dict(sorted(found.items()))


def _family_of(name):
    """The shipped family spec declaring variant ``name``, or None. Only files whose text
    holds ``name:`` are parsed, so a lookup stays cheap as the zoo grows."""
    for family in names():
        path = os.path.join(specs_dir(), family + ".yaml")
        with open(path, encoding="utf-8") as handle:
            if name + ":" not in handle.read():
                continue
        if name in load_spec(path).variants:
            return path
    return None


def resolve(arg):
    """(path, variant or None) for ``arg``: an existing file, a shipped spec named ``arg``
    (with or without ``.yaml``), or a variant of a shipped family."""
    if not isinstance(arg, str) or not arg.strip():
        raise SpecError("a spec path or name is needed, not an empty one", "costcalc")
    if os.path.isfile(arg):
        return arg, None
    if os.path.exists(arg):  # a folder, a device, a FIFO
        raise SpecError("cannot read spec: not a regular file", arg)
    base = os.path.basename(arg)
    name = base
    for extension in (".yaml", ".yml"):
        if name.endswith(extension):
            name = name[:-len(extension)]
    if os.sep not in arg.rstrip(os.sep) and name:
        if name in names():
            return os.path.join(specs_dir(), name + ".yaml"), None
        if name == base and name.isidentifier():
            family = _family_of(name)
            if family:
                return family, name
    raise SpecError(f"no spec file here, and no shipped spec of that name (costcalc list "
                    f"shows them){did_you_mean(name, names() + list(variants()))}", arg)


def load(arg):
    """Resolve and load a spec (a variant: its family with the variant's settings).
    ``arg`` may also be YAML text (anything with a line break) or a dict of the spec."""
    if isinstance(arg, dict) or (isinstance(arg, str) and "\n" in arg):
        import json

        from .spec import spec_from_text
        text = arg if isinstance(arg, str) else json.dumps(arg, indent=1, default=str)
        return spec_from_text(text, "<text>" if isinstance(arg, str) else "<dict>")
    path, variant = resolve(arg)
    spec = load_spec(path)
    return spec.with_variant(variant) if variant else spec
