"""The annual bulletin (水土保持公报) as data: every number read from stored runs, nothing invented.

:func:`bulletin_data` gathers what :mod:`shuibao.reports.render` lays out: the city's
area by grade and 水土保持率 against the previous run and the 2025 target, the regions
(一区两群) and the Three Gorges area, the tables in the layout of 附表1 and 表2, and the
run's provenance.  Sections whose records the platform does not hold yet (governance,
supervision, stations) carry ``rows=None`` and a sentence saying so — never zeros.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import cast

from pyproj import CRS

from shuibao.errors import N_, InputError
from shuibao.io import raster as rio
from shuibao.io import vector
from shuibao.monitoring.units import LOSS
from shuibao.plan.reference import load_reference
from shuibao.reports.bulletin_model import DEFAULT_ISSUER, Bulletin, DistrictSheet, Maps, Section
from shuibao.services.monitoring.runs import check_run_file, compare_runs, get_run, list_runs, run_file_path

LEVEL_ZH = {"city": "全市", "region": "区域", "three_gorges": "三峡库区", "district": "区县", "outside": "区县边界外"}
DIRECTION_ZH = {"reached": "已达目标", "toward": "向目标靠近", "away": "偏离目标", "unchanged": "持平", "n/a": "—"}
__all__ = ["Bulletin", "DistrictSheet", "Maps", "Section", "bulletin_data", "district_names", "district_sheets",
           "write_bulletin_report", "write_district_reports"]


def _with_shares(row: dict) -> dict:
    """Shares as 附表1 gives them: 微度 of the land area, each loss grade of the soil-loss area."""
    out = dict(row)
    total, loss = row["total_km2"], row["loss_km2"]
    out["slight_pct"] = row["slight_km2"] / total * 100 if total else None
    for g in LOSS:
        out[f"{g}_pct"] = row[f"{g}_km2"] / loss * 100 if loss else None
    out["loss_pct"] = loss / total * 100 if total else None
    return out


def _sections(db: str | None, year: int) -> list[Section]:
    # each section reports what its records hold, or says that there are none
    from shuibao.store import Store
    from shuibao.services.supervision.summary import supervision_summary

    from shuibao.services.governance.treatment import progress
    from shuibao.services.stations.summary import stations_summary

    with Store(db) as store, store.reading() as conn:
        supervision = supervision_summary(conn, year)
    treatment = progress(db, year=year)
    governance = None
    if treatment["patches"]:
        governance = [{"item": k["label"], "value": k["done"], "unit": k["unit"],
                       "note": f"规划目标 {k['target_2025']:g}，完成 {k['share_pct']:.1f}%；在建 {k['under_construction']:g}，"
                               f"规划 {k['planned']:g}；投资 {k['cost_wan']:g} 万元"}
                      for k in treatment["by_kind"] if k["patches"]]
    return [
        Section("governance", f"综合治理进展（对照规划专栏3，截至{year}年）", governance,
                "平台中尚无综合治理项目记录，本节暂缺；治理项目入库后自动生成。"),
        Section("supervision", f"生产建设项目监管（{year}年）", supervision,
                "平台中尚无水土保持方案审批、扰动图斑、违法案件或补偿费记录，本节暂缺。"),
        Section("stations", f"监测站点与暴雨预警（{year}年）", stations_summary(db, year),
                "平台中尚无监测站点及观测记录，本节暂缺。"),
    ]


def _missing_zh(run_id: int, why: str) -> str:
    """The reason the maps are missing, for readers: what happened to the run's file, without its path."""
    if "overwritten" in why:
        return f"监测运行 #{run_id} 的侵蚀强度栅格已被后来的运行覆盖，需重新运行或恢复该运行的输出文件夹"
    return f"监测运行 #{run_id} 的输出文件夹（侵蚀强度栅格）已不存在，需恢复该运行的输出文件夹"


def crs_note(crs_text: str | None) -> str:
    """坐标系 of the maps by name, with the projection's parameters for an Albers (ADR 0009's CRS)."""
    if not crs_text:
        return "坐标系：未记录"
    crs = CRS.from_user_input(crs_text)
    note = f"坐标系：{crs.name}"
    op = crs.coordinate_operation
    if op is not None and "albers" in op.method_name.lower():
        p = {q.name.lower(): q.value for q in op.params}
        lat1 = p.get("latitude of 1st standard parallel")
        lat2 = p.get("latitude of 2nd standard parallel")
        lon0 = p.get("longitude of false origin")
        if None not in (lat1, lat2, lon0):
            note += f"（Albers 等积圆锥投影，标准纬线 {lat1:g}°N、{lat2:g}°N，中央经线 {lon0:g}°E）"
    elif crs.is_geographic:
        note += "（经纬度）"
    return note


def _boundary_note(source: str | None) -> str:
    if not source:
        return "区县界线：监测运行所用区县边界"
    if source.startswith("store boundaries"):
        return "区县界线：平台存储的区县边界"
    return f"区县界线：{Path(source.split(' sha256:')[0]).name}"


def _maps(run: dict) -> Maps:
    boundaries = _boundary_note(run["provenance"].get("districts"))
    why = check_run_file(run)
    if why is not None:
        return Maps(missing=f"{why}; the maps need the run's output folder",
                    missing_zh=_missing_zh(run["info"].id, why), boundary_note=boundaries)
    grade_path = run_file_path(run)
    grades, extent, crs = rio.read_preview(grade_path)
    note = crs_note(crs)
    gpkg = Path(run["info"].output_dir) / "monitoring.gpkg"
    try:
        polys = vector.read_polygons(gpkg, "the run's districts", layer="districts", fields={"code": "str"})
    except InputError as exc:
        return Maps(grades, extent, missing=f"district map: {exc}",
                    missing_zh=f"监测运行 #{run['info'].id} 的区县图层无法读取", grade_path=grade_path,
                    crs_note=note, boundary_note=boundaries)
    geoms = vector.to_crs(polys.geoms, polys.crs, crs) if crs else polys.geoms
    return Maps(grades, extent, geoms, [str(c) for c in polys.attributes["code"]], grade_path=grade_path,
                crs_note=note, boundary_note=boundaries)


def _trend(db: str | None, info) -> list[tuple[int, int, float]]:
    """The city's rate by year: the newest stored run of each year up to this one, synthetic with synthetic."""
    best: dict[int, tuple[int, float]] = {}
    for r in list_runs(db):
        if r.year <= info.year and r.synthetic == info.synthetic and r.id <= info.id:
            best[r.year] = max(best.get(r.year, (-1, 0.0)), (r.id, r.rate_pct))
    return [(year, rid, rate) for year, (rid, rate) in sorted(best.items())]


def bulletin_data(db: str | None, run_ref: str, compare_ref: str | None = None, *, issuer: str | None = None,
                  issued: date | None = None) -> Bulletin:
    """Everything the bulletin shows, from the stored run ``run_ref`` (and ``compare_ref`` before it).

    ``compare_ref="previous"`` picks the newest stored run of an earlier year (none: no comparison).
    ``issuer`` (default :data:`DEFAULT_ISSUER`, 重庆市水利局) and ``issued`` (default: the day the run was
    stored) go on the cover.
    """
    run = get_run(db, run_ref)
    units = [_with_shares(u) for u in run["units"]]
    by_level: dict[str, list[dict]] = {}
    for u in units:
        by_level.setdefault(u["level"], []).append(u)
    landuse = [_with_shares(r) for r in run["landuse"]]
    previous = None
    changes: dict[tuple[str, str], dict] = {}
    if compare_ref == "previous":  # the newest run of an earlier year, synthetic with synthetic
        info = run["info"]
        earlier = [r for r in list_runs(db) if r.year < info.year and r.synthetic == info.synthetic]
        compare_ref = str(max(earlier, key=lambda r: (r.year, r.id)).id) if earlier else None
    if compare_ref is not None:
        cmp = compare_runs(db, compare_ref, run_ref)
        previous = cmp["a"].__dict__
        for row in cmp["units"]:
            changes[(row["level"], row["code"])] = {**row, "direction_zh": DIRECTION_ZH[row["toward_target"]]}
    districts = by_level.get("district", [])
    members = {}
    for u in [*by_level.get("region", []), *by_level.get("three_gorges", [])]:
        covered = set(u["covers"].split("|"))  # district names; 綦江区（含万盛经开区） is listed as 綦江区
        members[(u["level"], u["code"])] = [d for d in districts if d["name"].split("（")[0] in covered]
    prov = run["provenance"]
    no_unit: list[dict | None] = [None]
    return Bulletin(
        run=run["info"].__dict__, previous=previous, city=by_level["city"][0], regions=by_level.get("region", []),
        three_gorges=(by_level.get("three_gorges") or no_unit)[0], districts=by_level.get("district", []),
        outside=(by_level.get("outside") or no_unit)[0], landuse=landuse, changes=changes,
        sections=_sections(db, run["info"].year), members=members, maps=_maps(run), trend=_trend(db, run["info"]),
        provenance={"software": prov.get("software", {}), "inputs": prov.get("inputs", {}),
                    "parameters": prov.get("parameters", {}), "grid": prov.get("grid", {}),
                    "districts": prov.get("districts")},
        issuer=issuer or DEFAULT_ISSUER, issued=issued or run["info"].created_at.date(),
    )


def district_names(db: str | None, run_ref: str) -> list[str]:
    """The districts a run covers, in the order of 附表1."""
    return [u["name"] for u in get_run(db, run_ref)["units"] if u["level"] == "district"]


def district_sheets(db: str | None, run_ref: str, names: list[str] | None = None,
                    compare_ref: str | None = "previous") -> list[DistrictSheet]:
    """Sheets for ``names`` (district names or codes; None: every district of the run)."""
    b = bulletin_data(db, run_ref, compare_ref)
    by_key = {}
    for u in b.districts:
        by_key[u["name"]] = by_key[u["code"]] = u
    if names is None:
        chosen = b.districts
    else:
        unknown = [n for n in names if n not in by_key]
        if unknown:
            raise InputError(N_("district(s) {unknown} are not in run {id}; it covers: {names}", unknown=unknown,
                                id=b.run['id'], names="、".join(u["name"] for u in b.districts)))
        chosen = [by_key[n] for n in names]
    sheets = []
    geoms = dict(zip(b.maps.district_codes or [], b.maps.district_geoms or []))
    adcodes = {d.code: d.adcode for d in load_reference().districts}  # 行政区划代码, shown instead of the slug
    for u in chosen:
        sheet = DistrictSheet(b.run, b.previous, {**u, "adcode": adcodes.get(u["code"])},
                              b.changes.get(("district", u["code"])))
        geom = geoms.get(u["code"])
        sheet.crs_note = b.maps.crs_note
        if b.maps.missing or geom is None:
            sheet.missing = b.maps.missing or f"no polygon for district {u['code']} in the run's GeoPackage"
            sheet.missing_zh = b.maps.missing_zh or "该运行的区县图层中没有本区县的界线"
        else:
            left, bottom, right, top = geom.bounds
            pad = 0.03 * max(right - left, top - bottom)
            sheet.grades, sheet.extent, _ = rio.read_preview(cast(Path, b.maps.grade_path), 800,
                                                             bounds=(left - pad, bottom - pad, right + pad, top + pad))
            sheet.outline = geom
        sheets.append(sheet)
    return sheets


def write_bulletin_report(db: str | None, run_ref: str, compare_ref: str | None, out: Path | str,
                          pdf: bool = True, *, issuer: str | None = None, issued: date | None = None) -> list[Path]:
    """The bulletin of ``run_ref`` in ``out``: HTML, figures and (``pdf``) PDF; returns the files written."""
    from shuibao.reports.render import write_bulletin

    return write_bulletin(bulletin_data(db, run_ref, compare_ref, issuer=issuer, issued=issued), out, pdf=pdf)


def write_district_reports(db: str | None, run_ref: str, names: list[str] | None, compare_ref: str | None,
                           out: Path | str, pdf: bool = True) -> list[Path]:
    """District sheets (``names``, or every district for None) in ``out``; returns the files written."""
    from shuibao.reports.render import write_district_sheets

    return write_district_sheets(district_sheets(db, run_ref, names, compare_ref), out, pdf=pdf)
