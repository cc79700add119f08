"""The breakdowns of a report (``--by``, ``expect: of:``): each one's word, the report's list
of its groups, and how a table names it; declared once, in the order the tables show them."""


class Breakdown:
    """``name``: the option's word and the key of each group's value ('type'); ``key``: the
    report's list of groups ('by_type'); ``header``: the first column of its table
    ('Type'); ``title``: what one group is ('layer type': 'By layer type', 'Mult-adds by
    layer type')."""

    def __init__(self, name, header, title):
        self.name, self.key, self.header, self.title = name, f"by_{name}", header, title


BREAKDOWNS = {b.name: b for b in (Breakdown("type", "Type", "layer type"),
                                  Breakdown("stage", "Stage", "stage"),
                                  Breakdown("resolution", "Output size", "output size"))}
