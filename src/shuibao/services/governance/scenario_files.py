"""A scenario's files: its soil loss, grades and deciding patch on the run's grid (COGs), its unit and patch
tables (CSV) and ``scenario.json`` (:func:`shuibao.services.governance.scenarios.run_scenario` writes them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shuibao import __version__
from shuibao.io.synthetic import SYNTHETIC_TAG
from shuibao.io import raster as rio
from shuibao.io import styles
from shuibao.io import tables as tio
from shuibao.io.steps import sha256, write_json_atomic
from shuibao.monitoring.units import GRADES, GRADES_ZH
from shuibao.services.monitoring.erosion import GRADE_BAND, SOIL_LOSS_BAND

UNIT_COLUMNS = [
    tio.Column("level", "层级", "level"), tio.Column("code", "代码", "code"), tio.Column("name", "区县/区域", "unit"),
    tio.Column("total_km2", "土地总面积", "land area", "km²", 2),
    tio.Column("rate_pct", "情景水土保持率", "rate, scenario", "%", 2),
    tio.Column("base_rate_pct", "基准水土保持率", "rate, baseline", "%", 2),
    tio.Column("d_rate_pp", "变化", "change", "pp", 3),
    tio.Column("target_2025_pct", "2025年目标", "2025 target", "%", 2),
    tio.Column("gap_pp", "情景距目标", "gap to target, scenario", "pp", 2),
    tio.Column("base_gap_pp", "基准距目标", "gap to target, baseline", "pp", 2),
    *[c for g, zh in zip(GRADES, GRADES_ZH) for c in (
        tio.Column(f"{g}_km2", f"情景{zh}面积", f"{g.replace('_', ' ')} area, scenario", "km²", 2),
        tio.Column(f"base_{g}_km2", f"基准{zh}面积", f"{g.replace('_', ' ')} area, baseline", "km²", 2),
        tio.Column(f"d_{g}_km2", f"{zh}面积变化", f"change of {g.replace('_', ' ')} area", "km²", 2))],
    tio.Column("loss_km2", "情景水土流失面积", "soil-loss area, scenario", "km²", 2),
    tio.Column("base_loss_km2", "基准水土流失面积", "soil-loss area, baseline", "km²", 2),
    tio.Column("d_loss_km2", "水土流失面积变化", "change of soil-loss area", "km²", 2),
    tio.Column("toward_target", "趋势", "toward target"),
]
PATCH_COLUMNS = [
    tio.Column("seq", "序号", "no."), tio.Column("patch_code", "图斑编号", "patch"),
    tio.Column("measure", "措施", "measure"), tio.Column("measure_zh", "措施名称", "measure name"),
    tio.Column("status", "状态", "status"), tio.Column("year", "年度", "year"),
    tio.Column("district_code", "区县", "district"), tio.Column("b", "B", "B after", "", 4),
    tio.Column("e", "E", "E after", "", 4), tio.Column("t", "T", "T after", "", 4),
    tio.Column("cells", "覆盖网格数", "cells under the patch"),
    tio.Column("cells_applied", "采用网格数", "cells it decides"),
    tio.Column("cells_changed", "侵蚀模数变化网格数", "cells whose soil loss changed"),
    tio.Column("cells_raising", "措施使侵蚀模数增加的网格数", "cells where the measure would raise soil loss"),
    tio.Column("cells_increased", "侵蚀模数增加网格数", "cells whose soil loss rose"),
    tio.Column("area_km2", "覆盖面积", "area on the grid", "km²", 4),
]


def write_scenario_files(out: Path, base, grade_all: np.ndarray, uniq, new_a, new_g, win, changed, result,
                         selection: dict) -> list[Path]:
    """The scenario's rasters (whole grid: the run's values with the changed cells replaced) and tables."""
    out.mkdir(parents=True, exist_ok=True)
    grid = base.grid
    tags = {"SHUIBAO_VERSION": __version__, "SHUIBAO_RUN": "scenario", "SHUIBAO_BASE_RUN": str(base.info.id),
            "SHUIBAO_SCENARIO": result.name}
    if base.info.synthetic:
        tags["SHUIBAO_SYNTHETIC"] = SYNTHETIC_TAG
    modulus = rio.read_band(base.folder / "rasters" / "soil_loss.tif")
    flat = modulus.reshape(-1)
    flat[uniq[changed]] = new_a[changed]
    grades = grade_all.copy()
    grades.reshape(-1)[uniq[changed]] = new_g[changed]
    n = len(result.patches)
    deciding = np.zeros(grid.shape, np.uint8 if n < 2**8 else np.uint16 if n < 2**16 else np.int32)
    deciding.reshape(-1)[uniq] = win + 1
    files = [
        rio.write_cog(out / "soil_loss.tif", modulus, grid, nodata=float("nan"), tags=tags,
                      band_name=SOIL_LOSS_BAND, overview_resampling="AVERAGE", compress="DEFLATE"),
        rio.write_cog(out / "grade.tif", grades, grid, nodata=0, tags=tags, band_name=GRADE_BAND, categorical=True,
                      compress="DEFLATE", colormap=styles.grade_colormap()),
        rio.write_cog(out / "patches.tif", deciding, grid, nodata=0, tags=tags, categorical=True,
                      band_name="selected patch deciding the cell (seq of patches.csv); 0 none"),
    ]
    title = f"情景 {result.name}（基准：监测成果 {base.info.id} {base.info.name}）"
    notes = ["情景 = 基准监测成果中规划图斑处的 B、E、T 按措施替换后重算；其余网格不变。",
             "重叠图斑：取土壤侵蚀模数最小者（相同时取先选者）。"]
    files.append(tio.write_csv(out / "units.csv", tio.Table("scenario_units", f"分区水土保持率情景对比 — {title}",
                                                            UNIT_COLUMNS, result.units, notes, base.info.synthetic)))
    files.append(tio.write_csv(out / "patches.csv", tio.Table("scenario_patches", f"情景图斑 — {title}",
                                                              PATCH_COLUMNS, result.patches, [], base.info.synthetic)))
    meta = {"name": result.name, "base_run": {"id": base.info.id, "name": base.info.name, "year": base.info.year,
                                              "output_dir": str(base.folder)},
            "synthetic": base.info.synthetic, "selection": selection,
            "outputs": {p.name: sha256(p) for p in files}}
    write_json_atomic(out / "scenario.json", meta, indent=2)
    return [*files, out / "scenario.json"]


__all__ = ["PATCH_COLUMNS", "UNIT_COLUMNS", "write_scenario_files"]
