from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def jacksboro():
    """The real DEM matplotlib ships (Jacksboro fault, Tennessee; 344×403, int16 m, ~3 arc-seconds)."""
    from matplotlib import cbook

    data = cbook.get_sample_data("jacksboro_fault_dem.npz")
    return np.ascontiguousarray(data["elevation"], dtype=np.float32)
