"""livesim: an agent-based model of a livestream e-commerce marketplace.

>>> from sim import MarketModel
>>> model = MarketModel(seed=3, days=30, consumers={"n": 2000})
>>> model.run_for(30)
"""

__version__ = "0.2.0"  # before the imports: sim.model stamps checkpoints with it

from sim.config import ConfigError, SimConfig, make_config  # noqa: E402
from sim.model import MarketModel  # noqa: E402

__all__ = ["ConfigError", "MarketModel", "SimConfig", "make_config", "__version__"]
