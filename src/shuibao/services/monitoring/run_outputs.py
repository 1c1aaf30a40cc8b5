"""Outputs of a monitoring run: the tables (CSV, one XLSX workbook), the GeoPackage layers, provenance."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from shuibao import __version__
from shuibao.io import tables as tio
from shuibao.io.steps import StepRecord
from shuibao.io.vector import VectorLayer, polygonize, write_gpkg
from shuibao.monitoring.blocks import Partials
from shuibao.monitoring.units import GRADES, GRADES_ZH, LOSS, UnitRow, landuse_rows, unit_rows, watershed_rows
from shuibao.services.monitoring.run_inputs import STORAGE_CRS, Prepared

SYNTHETIC_TITLE = "（合成数据 SYNTHETIC，非观测）"


@dataclass
class Results:
    units: list[UnitRow]
    landuse: list[dict]
    watersheds: list[dict]
    partials: Partials
    cell_area_km2: float
    synthetic: bool

    def unit_records(self) -> list[dict]:
        return [u.record() for u in self.units]

    def city(self) -> dict:
        return next(u.record() for u in self.units if u.level == "city")

    def summary(self) -> dict:
        c = self.city()
        return {"total_km2": c["total_km2"], "slight_km2": c["slight_km2"], "loss_km2": c["loss_km2"],
                "rate_pct": c["rate_pct"], "target_2025_pct": c["target_2025_pct"], "gap_pp": c["gap_pp"],
                "watersheds": len(self.watersheds), "synthetic": self.synthetic}


def build_results(prep: Prepared, p: Partials) -> Results:
    cell = prep.cell_area_km2
    names = {c.code: c.name for c in prep.ref.landuse_classes}
    ids = None
    if prep.sheds is not None:
        assert prep.spec.watersheds is not None  # the polygons were read from it
        f = prep.spec.watersheds.fields
        idf, namef = f.get("id_field", "code"), f.get("name_field")
        ids = {i + 1: (str(prep.sheds.attributes[idf][i]).strip(),
                       prep.sheds.attributes[namef][i] if namef else None)
               for i in range(len(prep.sheds.geoms))}
    return Results(unit_rows(prep.ref, prep.zones, p.zone_grade, p.zone_loss, cell),
                   landuse_rows(p.class_grade, prep.classes, names, cell),
                   watershed_rows(p.shed_grade, p.shed_zone, p.shed_loss, prep.zones, cell, ids),
                   p, cell, prep.spec.synthetic)


# --------------------------------------------------------------------------- table layouts
def _c(key, zh, en, unit="", decimals=None) -> tio.Column:
    return tio.Column(key, zh, en, unit, decimals)


def _grade_columns(with_pct: bool) -> list[tio.Column]:
    cols = []
    for g, zh in zip(GRADES, GRADES_ZH):
        cols.append(_c(f"{g}_km2", f"{zh}面积", f"{g.replace('_', ' ')} area", "km²", 2))
        if with_pct:
            share = "占土地面积" if g == "slight" else "占水土流失面积"
            cols.append(_c(f"{g}_pct", f"{zh}{share}比例", f"{g.replace('_', ' ')} share", "%", 2))
    return cols


UNIT_COLUMNS = [_c("seq", "序号", "no."), _c("level", "层级", "level"), _c("code", "代码", "code"),
                _c("name", "区县/区域", "unit"), _c("total_km2", "土地总面积", "land area", "km²", 2),
                *_grade_columns(True), _c("loss_km2", "水土流失面积", "soil-loss area", "km²", 2),
                _c("loss_pct", "水土流失面积占比", "soil-loss share", "%", 2),
                _c("mean_modulus_t_km2", "平均土壤侵蚀模数", "mean soil-loss modulus", "t/(km²·a)", 1),
                _c("soil_loss_t", "土壤侵蚀量", "soil loss", "t/a", 0)]
RATE_COLUMNS = [_c("seq", "序号", "no."), _c("level", "层级", "level"), _c("code", "代码", "code"),
                _c("name", "区县/区域", "unit"), _c("total_km2", "土地总面积", "land area", "km²", 2),
                _c("slight_km2", "微度面积", "slight area", "km²", 2),
                _c("rate_pct", "水土保持率", "soil-conservation rate", "%", 2),
                _c("rate_2020_plan_pct", "2020年水土保持率（规划附表1）", "2020 rate (plan, 附表1)", "%", 2),
                _c("target_2025_pct", "2025年目标", "2025 target", "%", 2),
                _c("gap_pp", "距目标", "gap to target", "pp", 2),
                _c("gap_km2", "距目标面积", "gap to target", "km²", 2)]
LANDUSE_COLUMNS = [_c("class_code", "序号", "class"), _c("name", "土地利用类型", "land use"),
                   _c("total_km2", "土地面积", "land area", "km²", 2), *_grade_columns(False)[:1],
                   _c("loss_km2", "水土流失面积", "soil-loss area", "km²", 2),
                   *_grade_columns(False)[1:],
                   _c("loss_pct_of_class", "占该类土地比例", "loss share of the class", "%", 2),
                   _c("share_of_loss_pct", "占水土流失总面积比例", "share of all loss", "%", 2)]
SHED_COLUMNS = [_c("label", "编号", "label"), _c("code", "小流域代码", "watershed code"),
                _c("name", "小流域名称", "watershed name"), _c("district_code", "所属区县代码", "district code"),
                _c("district_name", "所属区县", "district"),
                _c("district_share_pct", "位于该区县的比例", "share in that district", "%", 1),
                _c("total_km2", "面积", "area", "km²", 3), *_grade_columns(False),
                _c("loss_km2", "水土流失面积", "soil-loss area", "km²", 3),
                _c("rate_pct", "水土保持率", "soil-conservation rate", "%", 2),
                _c("mean_modulus_t_km2", "平均土壤侵蚀模数", "mean soil-loss modulus", "t/(km²·a)", 1)]


def timestamp(prep: Prepared) -> datetime:
    """A fixed time for file metadata (XLSX, GeoPackage): the end of the monitored year, so bytes repeat."""
    return datetime(prep.spec.year, 12, 31, tzinfo=UTC)


def result_tables(prep: Prepared, res: Results) -> list[tio.Table]:
    title = prep.spec.name + (SYNTHETIC_TITLE if res.synthetic else "")
    syn = res.synthetic
    units = res.unit_records()
    notes = [f"面积为网格单元地面面积之和（单元 {prep.grid.cell_width:g} m，{res.cell_area_km2:.6f} km²）；"
             f"容许土壤流失量 {prep.spec.parameters['tolerance_t_km2']:g} t/(km²·a)，分级依 SL 190-2007。",
             "水土保持率 = 微度（含无明显侵蚀）面积 / 土地总面积；区域、三峡库区与全市为所辖区县单元之和。",
             "“区县边界外”为落在区县界线之外的有效网格（边界与网格的差异），不计入全市。"]
    return [
        tio.Table("erosion_by_unit", f"附表1 水土流失现状表 — {title}", UNIT_COLUMNS, units, notes, syn,
                  "附表1 水土流失现状"),
        tio.Table("conservation_rate", f"附表2 水土保持率与“十四五”目标 — {title}", RATE_COLUMNS,
                  [u for u in units if u["level"] != "outside"],
                  ["目标为附表2 区县目标按附表1 土地面积加权；距目标 = 目标 − 本年水土保持率。"], syn,
                  "附表2 水土保持率与目标"),
        tio.Table("erosion_by_landuse", f"表2 不同土地利用水土流失面积分布情况表 — {title}", LANDUSE_COLUMNS,
                  res.landuse, ["土地利用类型按表2 的八类（GB/T 21010-2017 一级类归并）。"], syn,
                  "表2 土地利用水土流失"),
        tio.Table("watersheds", f"小流域水土流失情况 — {title}", SHED_COLUMNS, res.watersheds,
                  ["小流域归属于其面积最大部分所在的区县。"], syn, "小流域"),
    ]


def write_tables(prep: Prepared, res: Results, out: Path) -> list[str]:
    written = []
    sheets = result_tables(prep, res)
    for t in sheets:
        tio.write_csv(out / "tables" / f"{t.name}.csv", t)
        written += [f"tables/{t.name}.csv", f"tables/{tio.metadata_path(t.name + '.csv').name}"]
    tio.write_xlsx(out / "monitoring.xlsx", sheets, timestamp=timestamp(prep))
    return written + ["monitoring.xlsx"]


def _columns(records: list[dict], cols: list[tio.Column], synthetic: bool) -> dict[str, list]:
    out = {c.key: [r.get(c.key) for r in records] for c in cols}
    out["synthetic"] = [1 if synthetic else 0] * len(records)
    return out


def write_vectors(prep: Prepared, res: Results, sheds: np.ndarray, out: Path) -> list[str]:
    """One GeoPackage: districts (zones) with 附表1/rate attributes, small watersheds with theirs (EPSG:4490)."""
    syn = " — SYNTHETIC 合成数据" if res.synthetic else ""
    by_code = {u["code"]: u for u in res.unit_records() if u["level"] == "district"}
    zone_records = [by_code[z.code] for z in prep.zones]
    polys = polygonize(sheds, prep.grid, STORAGE_CRS)
    shed_records = [r for r in res.watersheds if r["label"] in polys]
    cols = [c for c in UNIT_COLUMNS if c.key not in ("seq",)] + [c for c in RATE_COLUMNS if c.key in (
        "rate_pct", "rate_2020_plan_pct", "target_2025_pct", "gap_pp", "gap_km2")]
    layers = [
        VectorLayer("districts", f"{prep.spec.name}: 区县水土流失与水土保持率{syn}", STORAGE_CRS,
                    list(prep.zone_geoms), _columns(zone_records, cols, res.synthetic)),
        VectorLayer("watersheds", f"{prep.spec.name}: 小流域{syn}", STORAGE_CRS,
                    [polys[r["label"]] for r in shed_records], _columns(shed_records, SHED_COLUMNS, res.synthetic)),
    ]
    write_gpkg(out / "monitoring.gpkg", layers, timestamp=timestamp(prep))
    return ["monitoring.gpkg"]


def provenance(prep: Prepared, records: dict[str, StepRecord], timings: dict[str, float]) -> dict:
    s = prep.spec
    lo, hi = prep.area_scale
    return {
        "software": {"name": "shuibao", "version": __version__, "python": platform.python_version()},
        "run": {"name": s.name, "year": s.year, "spec": str(s.path), "digest": prep.digest(),
                "synthetic": s.synthetic},
        # sha256: the file's own (sha256sum checks it); fingerprint: over the file and its same-stem sidecars
        "inputs": {k: {**prep.input_files.get(k, {}), "fingerprint": v} for k, v in prep.checksums.items()},
        "districts": prep.district_source,
        "parameters": s.parameters,
        "execution": s.execution,
        "grid": {"crs": prep.grid.crs, "shape": list(prep.grid.shape), "cell_size_m": prep.grid.cell_width,
                 "transform": list(prep.grid.transform), "valid_cells": int(prep.valid.sum()),
                 "areal_scale_min": lo, "areal_scale_max": hi},
        "steps": {n: {"reused": r.reused, "seconds": r.seconds, "outputs": r.outputs, "result": _plain(r.result)}
                  for n, r in records.items()},
        "timings_s": timings,
        "grades": {"codes": {str(i + 1): f"{GRADES_ZH[i]} {g}" for i, g in enumerate(GRADES)},
                   "loss_grades": list(LOSS)},
    }


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
