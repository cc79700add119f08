"""The specs shipped with the package (``specs/*.yaml``) and how names resolve to them.

A name is a spec file (``mobilenet``, ``mobilenet.yaml``) or a variant a family spec
declares under ``variants:`` (``resnet50`` in ``resnet.yaml``).
"""
import errno
import os

from costcalc.core.errors import SpecError, did_you_mean, show
from costcalc.lang.spec import load_spec

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # costcalc/


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
    """(path, variant or None) for ``arg`` (text or an os.PathLike): an existing file,
    ``-`` (standard input), a shipped spec named ``arg`` (with or without ``.yaml``), or a
    variant of a shipped family. Never YAML text: a name with a line break is a file name."""
    if isinstance(arg, os.PathLike):
        arg = os.fspath(arg)
    if not isinstance(arg, str):
        raise SpecError(f"a spec is a path or a shipped name (text), not "
                        f"{_kind(arg)}", "costcalc")
    if not arg.strip():
        raise SpecError("a spec path or name is needed, not an empty one", "costcalc")
    if arg == "-" or os.path.isfile(arg):
        return arg, None
    if os.path.exists(arg):  # a folder, a device, a FIFO
        raise SpecError("cannot read spec: not a regular file", arg)
    try:  # there but out of reach: a symbolic link loop, a link to nothing, no permission
        os.stat(arg)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            reason = "a symbolic link loop" if exc.errno == errno.ELOOP else exc.strerror
            raise SpecError(f"cannot read spec: {reason}", arg) from None
        if os.path.islink(arg):
            raise SpecError(f"cannot read spec: a symbolic link to a missing file "
                            f"({show(os.readlink(arg))})", arg) from None
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


def _kind(value):
    """'bytes', 'a list', 'None': what a message calls a value of the wrong type."""
    name = type(value).__name__
    if value is None or name in ("bytes", "bytearray"):
        return name if value is not None else "None"
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def load(arg):
    """Resolve and load a spec (a variant: its family with the variant's settings)."""
    path, variant = resolve(arg)
    return load_spec(path, variant)


def load_given(arg):
    """(Spec, label) for the library's ``spec`` argument: as ``load``, or YAML text (a
    string with a line break; label ``<text>``) or a dict of the spec (``<dict>``)."""
    from costcalc.lang.spec import spec_from_text

    if isinstance(arg, str) and "\n" in arg:
        return spec_from_text(arg, "<text>"), "<text>"
    if isinstance(arg, dict):
        return spec_from_text(dict_text(arg), "<dict>"), "<dict>"
    if not isinstance(arg, (str, os.PathLike)):
        raise SpecError(f"a spec is a path, a shipped name, YAML text or a dict, not "
                        f"{_kind(arg)}", "costcalc")
    spec = load(arg)
    return spec, os.fspath(arg)


def dict_text(tree):
    """A spec given as a dict, as JSON text for the YAML loader; only data may be in it
    (yamlload.check_data)."""
    import json

    from costcalc.core.yamlload import check_data

    check_data(tree, "spec", "<dict>")
    return json.dumps(tree, indent=1, allow_nan=False)
