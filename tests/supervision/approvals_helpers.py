"""Polygons and applications for the 方案审批 tests (a square of a given size at a place in Chongqing)."""

from __future__ import annotations

import math

import shapely

from shuibao.services.supervision.approvals import Unit
from shuibao.services.supervision.common import to_metres

YUZHONG = (106.57, 29.555)  # 渝中区
CHENGDU = (104.06, 30.67)  # 四川, outside Chongqing
BUILDER = Unit("builder", "重庆某建设有限公司", "91512081MA62K0260E")
COMPILER = Unit("compiler", "某方案编制院")


def square(hm2: float, at=YUZHONG, dx: float = 0.0):
    """A square of about ``hm2`` hectares centred near ``at`` (shifted ``dx`` degrees east), EPSG:4490."""
    side = math.sqrt(hm2 * 1e4)
    lon, lat = at[0] + dx, at[1]
    w, h = side / (111320 * math.cos(math.radians(lat))) / 2, side / 110574 / 2
    return shapely.box(lon - w, lat - h, lon + w, lat + h)


def hm2(geom) -> float:
    return float(shapely.area(to_metres([geom])[0])) / 1e4
