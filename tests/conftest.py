"""Shared test configuration: hypothesis profiles and fixtures.

Profiles (choose with MINICNN_HYPOTHESIS_PROFILE): ``dev`` (few examples, the default),
``ci`` (more), ``thorough`` (many, for a night run). All have no deadline: the first call
of a Numba kernel compiles it, which would trip a per-example time limit.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("MINICNN_HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def rng():
    """A seeded NumPy generator, fresh for each test."""
    return np.random.default_rng(1234)
