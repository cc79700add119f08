"""``costcalc.torch``: a spec as a PyTorch nn.Module (the extra ``costcalc[torch]``;
docs/torch.md). The public name of costcalc.interop.torch."""
from costcalc.interop.torch import LIMITS, CostcalcModule, build, from_graph

__all__ = ["build", "from_graph", "CostcalcModule", "LIMITS"]
