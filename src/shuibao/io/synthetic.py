"""The label every raster made from (or as) synthetic inputs carries, so no synthetic number passes as observed.

A GeoTIFF tag ``SHUIBAO_SYNTHETIC`` holds :data:`SYNTHETIC_TAG`; the change-detection test pairs also carry
``SYNTHETIC=1``.  Runs and scenarios on tagged inputs tag their products the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

SYNTHETIC_TAG_KEY = "SHUIBAO_SYNTHETIC"
SYNTHETIC_TAG = "yes: made from synthetic inputs, not observations"
"""The value of the SHUIBAO_SYNTHETIC tag of every raster made from (or as) synthetic inputs."""


def is_synthetic(tags: Mapping[str, str]) -> bool:
    """Whether a raster's tags say it is synthetic (either convention)."""
    return tags.get("SYNTHETIC") == "1" or SYNTHETIC_TAG_KEY in tags
