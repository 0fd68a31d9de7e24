"""Shared settings: hypothesis without deadlines (the machines are shared and noisy).

HYPOTHESIS_PROFILE=long runs every property with 10,000 examples.
"""

import os

from hypothesis import settings

settings.register_profile("default", deadline=None)
settings.register_profile("long", deadline=None, max_examples=10_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
