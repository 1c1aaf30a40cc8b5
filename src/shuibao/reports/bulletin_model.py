"""The annual bulletin (水土保持公报) and the district sheets as data: what
:func:`shuibao.services.reporting.bulletin.bulletin_data` gathers from the stored runs and
:mod:`shuibao.reports.render` lays out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from ..monitoring.units import GRADES, GRADES_ZH, LOSS


# the body that issues Chongqing's bulletin: the 2020 重庆市水土保持公报 says in its 前言 "根据《中华人民共和国
# 水土保持法》规定，重庆市水利局组织编制了…" (a web copy, gcs66.com; the printed edition not checked here);
# `shuibao report bulletin --issuer` sets another
DEFAULT_ISSUER = "重庆市水利局"


@dataclass(frozen=True)
class Section:
    """A part of the bulletin fed by records the platform may not have yet."""

    key: str
    title: str
    rows: list[dict] | None  # None: no records of this kind exist
    absent: str = ""  # what the bulletin says when rows is None


@dataclass
class Maps:
    """What the maps are drawn from: the run's own files (checked against its provenance)."""

    grades: np.ndarray | None = None  # decimated grade raster, 0 = nodata
    extent: tuple | None = None
    district_geoms: list | None = None  # in the run's CRS, in the order of ``district_codes``
    district_codes: list[str] | None = None
    missing: str | None = None  # why there are no maps (for logs and tests: may name a path)
    missing_zh: str | None = None  # the same for readers, without paths
    grade_path: Path | None = None  # the grade raster read (district sheets crop it again)
    crs_note: str = ""  # 坐标系 and projection of the maps, for the note under each map
    boundary_note: str = ""  # where the district lines come from


@dataclass
class Bulletin:
    run: dict  # info of the run reported on
    previous: dict | None  # info of the run compared with, if any
    city: dict
    regions: list[dict]
    three_gorges: dict | None
    districts: list[dict]
    outside: dict | None
    landuse: list[dict]
    changes: dict[tuple[str, str], dict] = field(default_factory=dict)  # (level, code) → change row
    sections: list[Section] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    members: dict[tuple[str, str], list[dict]] = field(default_factory=dict)  # (level, code) → its districts
    maps: Maps = field(default_factory=Maps)
    trend: list[tuple[int, int, float]] = field(default_factory=list)  # (year, run id, city rate %)
    grades: tuple = tuple(zip(GRADES, GRADES_ZH))
    loss_grades: tuple = LOSS
    issuer: str = DEFAULT_ISSUER
    issued: date | None = None  # None: the date the run was stored

    @property
    def synthetic(self) -> bool:
        return bool(self.run["synthetic"] or (self.previous and self.previous["synthetic"]))


@dataclass
class DistrictSheet:
    """One district's page: its row, its change since the previous run, and its part of the grade map."""

    run: dict
    previous: dict | None
    unit: dict
    change: dict | None
    grades: np.ndarray | None = None
    extent: tuple | None = None
    outline: object | None = None  # the district polygon in the run's CRS
    missing: str | None = None
    missing_zh: str | None = None
    crs_note: str = ""
    grade_names: tuple = tuple(zip(GRADES, GRADES_ZH))

    @property
    def synthetic(self) -> bool:
        return bool(self.run["synthetic"] or (self.previous and self.previous["synthetic"]))
