"""Shapes: a tensor's sides with their layout (C x H x W today; N x D, C x T x H x W next).

A ``Shape`` is a tuple of ints (so it unpacks, compares, hashes and encodes to JSON as one)
of a layout class made by ``layout("CHW")``, one letter per dimension:

    C channels   H height   W width   T frames   N tokens   D features

It has its ``layout``, ``rank`` (len(layout)), ``elements`` (the product of its sides),
``text`` ("16x80x80", also its str(); its repr is the tuple's), and the name of each dimension its layout has
(``channels``, ``height``, ...; ``spatial`` is its T, H and W sides in order). Asked for a
dimension its layout lacks, a shape raises ShapeError: never a wrong side.
"""
import math
from operator import itemgetter

NAMES = {"C": "channels", "H": "height", "W": "width", "T": "frames", "N": "tokens",
         "D": "features"}
SPATIAL = "THW"   # the letters of ``spatial``, in layout order
_LAYOUTS = {}     # layout text -> its Shape class


class ShapeError(ValueError):
    """An impossible shape, or a side its layout does not have; the graph builder places
    it at the layer's line."""


def text(dims):
    """(32, 112, 112) or [32, 112, 112] -> '32x112x112': how every shape is printed."""
    return "x".join(map(str, dims))


def _missing(name):
    def refuse(shape):
        raise ShapeError(f"a shape of layout {shape.layout} ({shape.text}) has no {name}")
    return property(refuse)


class Shape(tuple):
    """A shape of some layout: a tuple of its sides (see the module docstring)."""

    __slots__ = ()
    layout = ""
    rank = property(len)
    elements = property(math.prod)   # C * H * W for CHW
    text = property(text)
    __str__ = text.fget
    spatial = _missing("spatial sides")

    def __reduce__(self):   # pickled as its layout and sides (sweep's worker processes)
        return _make, (self.layout, tuple(self))

    @classmethod
    def of(cls, dims):
        """A shape of this layout from ``dims``, checked to have one side per letter
        (``CHW(dims)`` itself does not check: the layer rules make one per layer)."""
        shape = cls(dims)
        if len(shape) != len(cls.layout):
            raise ShapeError(f"a shape of layout {cls.layout} has {len(cls.layout)} sides, not "
                             f"{len(shape)} ({text(shape)})")
        return shape

    def with_channels(self, channels):
        """The same shape with ``channels`` channels."""
        i = self.layout.find("C")
        if i < 0:
            raise ShapeError(f"a shape of layout {self.layout} ({self.text}) has no channels")
        return type(self)(self[:i] + (channels,) + self[i + 1:])   # the same rank


for _name in NAMES.values():   # a side the layout lacks: refused (layout() sets the others)
    setattr(Shape, _name, _missing(_name))


def layout(letters):
    """The Shape class of a layout ("CHW"), made once: each letter's name reads its side."""
    cls = _LAYOUTS.get(letters)
    if cls is None:
        if not letters or len(set(letters)) != len(letters) or not set(letters) <= set(NAMES):
            raise ValueError(f"a layout is distinct letters of {''.join(NAMES)}, not "
                             f"{letters!r}")
        names = {NAMES[letter]: property(itemgetter(i)) for i, letter in enumerate(letters)}
        sides = [i for i, letter in enumerate(letters) if letter in SPATIAL]
        if sides:
            names["spatial"] = property(itemgetter(*sides) if len(sides) > 1
                                        else lambda shape: (shape[sides[0]],))
        cls = _LAYOUTS[letters] = type(f"Shape{letters}", (Shape,), dict(
            names, __slots__=(), layout=letters, __doc__=f"A {letters} shape."))
    return cls


def _make(letters, dims):
    return layout(letters)(dims)


CHW = layout("CHW")   # an image or a feature map: channels x height x width
