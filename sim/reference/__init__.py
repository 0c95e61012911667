"""A readable per-agent reference of the market's core daily rules (issue 13, docking).

:class:`ReferenceModel` runs the same :class:`~sim.config.SimConfig` as the fast engine
(:class:`sim.model.MarketModel`) with consumers, hosts and sellers as ``mesa.Agent`` objects and
plain Python loops instead of array passes: small, slow and easy to check against
``docs/MODEL.md``.  It supports the market without traditional brands, service providers,
funds and upgrades (it refuses configurations where they are on); ``tests/test_docking.py``
checks that both engines give the same distributions of the daily metrics (MODEL.md 4.6).

>>> from sim.reference import ReferenceModel
>>> model = ReferenceModel(seed=1, days=30, consumers={"n": 1000}, **REFERENCE_MARKET)  # doctest: +SKIP
"""

from sim.reference.model import REFERENCE_MARKET, SUPPORTED_METRICS, ReferenceModel, check_supported

__all__ = ["REFERENCE_MARKET", "SUPPORTED_METRICS", "ReferenceModel", "check_supported"]
