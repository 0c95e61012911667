"""livesim: an agent-based model of a livestream e-commerce marketplace.

>>> from sim import MarketModel
>>> model = MarketModel(seed=3, days=30, consumers={"n": 2000})
>>> model.run_for(30)
"""

from sim.config import ConfigError, SimConfig, make_config
from sim.model import MarketModel

__version__ = "0.1.0"
__all__ = ["ConfigError", "MarketModel", "SimConfig", "make_config", "__version__"]
