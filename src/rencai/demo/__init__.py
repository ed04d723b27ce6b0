"""Synthetic demo data (演示数据): deterministic by seed, generated per area.

Each area of rencai adds its own generator in a ``demo`` module of its app (``rencai/core/demo.py``,
later ``rencai/talents/demo.py`` …) with the ``register`` decorator; ``rencai demo`` discovers
them, runs them in order inside one transaction and records the run in the audit log. Every
generator gets its own Faker (zh_CN) and ``random.Random`` seeded from the run's seed and the
generator's name, so the same seed gives the same data, and adding a generator does not change
what the others make.
"""

from rencai.demo.registry import DemoAlreadyLoaded, DemoContext, demo_loaded, register, run_demo

__all__ = ["DemoAlreadyLoaded", "DemoContext", "demo_loaded", "register", "run_demo"]
