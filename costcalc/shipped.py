"""The specs shipped with the package (``specs/*.yaml``) and how names resolve to them."""
import os

from .errors import SpecError
from .spec import load_spec

_HERE = os.path.dirname(os.path.abspath(__file__))


def specs_dir():
    """``costcalc/specs`` when installed; the checkout's top-level ``specs/`` otherwise."""
    for candidate in (os.path.join(_HERE, "specs"), os.path.join(os.path.dirname(_HERE), "specs")):
        if os.path.isdir(candidate):
            return candidate
    return os.path.join(_HERE, "specs")


def names():
    """Names of the shipped specs, sorted."""
    try:
        return sorted(f[:-5] for f in os.listdir(specs_dir()) if f.endswith(".yaml"))
    except OSError:
        return []


def resolve(arg):
    """A path for ``arg``: an existing file, or a shipped spec named ``arg`` (with or
    without ``.yaml``)."""
    if os.path.isfile(arg):
        return arg
    base = os.path.basename(arg)
    name = base
    for extension in (".yaml", ".yml"):
        if name.endswith(extension):
            name = name[:-len(extension)]
    if os.sep not in arg.rstrip(os.sep) and name in names():
        return os.path.join(specs_dir(), name + ".yaml")
    raise SpecError(f"no spec file {arg!r} here, and no shipped spec of that name "
                    f"(shipped: {', '.join(names())})", arg, 0, 0)


def load(arg):
    """Resolve and load a spec."""
    return load_spec(resolve(arg))
