"""Fractional vegetation cover (植被覆盖度) from NDVI: the dimidiate pixel model and its end-members.

The end-members are read from eligible land only (the ``fvc_pool`` column of ``landuse_codes.csv``), as the
Chinese monitoring practice does; see :func:`fvc_from_ndvi`.
"""

from __future__ import annotations

import numpy as np

from ..core import csle
from ..core.zonal import present_codes
from ..errors import InputError, N_
from .params import CsleParams

MIN_BARE_CELLS = 1000  # fewer bare cells than this cannot place a 5th percentile: fall back (and say so)


def _pool(members, usable: np.ndarray, valid: np.ndarray, landuse: np.ndarray) -> np.ndarray:
    """Cells of the given codes with an NDVI: one gather through a code table (np.isin would pass once per
    code over a 92 M-cell grid)."""
    if not members:
        return np.zeros_like(valid)
    lut = np.zeros(max(members) + 1, bool)
    lut[members] = True
    inside = np.asarray(landuse)
    if inside.dtype.kind not in "iu" or inside.max(initial=0) >= lut.size or inside.min(initial=0) < 0:
        return usable & np.isin(inside, members)
    return usable & lut[inside]


def _soil_end(ndvi: np.ndarray, pool, bare_codes: list, veg_codes: list, params: CsleParams,
              warnings: list[str], info: dict) -> float:
    """The bare-soil NDVI: the ``soil_percentile`` of bare land, or of bare and vegetated land together."""
    m = pool(bare_codes)
    used, fallback = bare_codes, False
    if m.sum() < MIN_BARE_CELLS:
        m, used, fallback = pool(bare_codes + veg_codes), bare_codes + veg_codes, True
        warnings.append(f"FVC: fewer than {MIN_BARE_CELLS} bare-land cells, so the bare-soil NDVI is the "
                        f"{params.soil_percentile:g}th percentile of bare and vegetated land together, which "
                        "reads sparse cover as bare and raises B; give ndvi_soil (a bare-soil NDVI of your "
                        "imagery) for a small area")
    if not m.any():
        raise InputError(N_("B: no bare or vegetated cells (by the land-use code table) to take the bare-soil NDVI "
                         "from; give ndvi_soil and ndvi_veg, or the codes in a landuse_codes table"))
    lo = csle.ndvi_percentile(ndvi, m, params.soil_percentile)
    info["ndvi_soil_from"] = {"percentile": params.soil_percentile, "landuse_codes": used, "cells": int(m.sum()),
                              "fallback_without_bare_land": fallback}
    return lo


def fvc_from_ndvi(ndvi: np.ndarray, landuse: np.ndarray, valid: np.ndarray, codes: dict,
                  params: CsleParams) -> tuple[np.ndarray, dict]:
    """FVC by the dimidiate pixel model with end-members taken from eligible land only.

        FVC = (NDVI − NDVI_soil) / (NDVI_veg − NDVI_soil), clipped to [0, 1]

    NDVI_veg is the ``veg_percentile`` (95 %) of the NDVI of vegetated land (forest, shrub, grass, garden:
    ``fvc_pool = veg`` in ``landuse_codes.csv``) and NDVI_soil the ``soil_percentile`` (5 %) of bare land
    (bare soil, sand, mining, vacant land: ``fvc_pool = soil``); with fewer than :data:`MIN_BARE_CELLS` bare
    cells, of bare and vegetated land together (recorded as a fallback).  Water, sealed land and cropland
    never set an end-member: with 8 % water the all-cell 5th percentile falls to NDVI ≈ −0.2 and B of
    sparse cover by 2.4× (issue 16).  Codes the table does not know count as vegetated.  The 5 %/95 %
    cumulative-frequency rule is the common Chinese practice (VERIFIED-SECONDARY, docs/validation.md §FVC).
    Either end-member given in the parameters is used as given.  Returns FVC and the end-members with how
    they were chosen (written to the run's provenance).
    """
    pool_of = {c: v.fvc_pool for c, v in codes.items()}
    present = present_codes(landuse, valid).tolist()
    veg_codes = [c for c in present if pool_of.get(c) == "veg"]
    bare_codes = [c for c in present if pool_of.get(c) == "soil"]
    warnings: list[str] = []
    unknown = [c for c in present if c not in pool_of]
    if unknown and (params.ndvi_soil is None or params.ndvi_veg is None):
        warnings.append(f"FVC: land-use code(s) {unknown[:10]} are not in the land-use code table, so they set no "
                        "NDVI end-member (they could be water or sealed land); give the codes in a landuse_codes "
                        "table, or ndvi_soil and ndvi_veg")

    usable = valid & np.isfinite(ndvi)

    def pool(members):
        return _pool(members, usable, valid, landuse)

    info: dict = {}
    lo, hi = params.ndvi_soil, params.ndvi_veg
    if lo is None:
        lo = _soil_end(ndvi, pool, bare_codes, veg_codes, params, warnings, info)
    else:
        info["ndvi_soil_from"] = "parameter"
    if hi is None:
        m = pool(veg_codes)
        if not m.any():
            raise InputError(N_("B: no vegetated cells (by the land-use code table) to take the full-cover NDVI from; "
                             "give ndvi_veg, or the codes in a landuse_codes table"))
        hi = csle.ndvi_percentile(ndvi, m, params.veg_percentile)
        info["ndvi_veg_from"] = {"percentile": params.veg_percentile, "landuse_codes": veg_codes,
                                 "cells": int(m.sum())}
    else:
        info["ndvi_veg_from"] = "parameter"
    if not hi > lo:
        raise InputError(N_("B: the NDVI end-members give no range (soil {lo:.4f} ≥ vegetation {hi:.4f}); "
                         "set ndvi_soil and ndvi_veg", lo=lo, hi=hi))
    fvc, lo, hi = csle.fvc_dimidiate(ndvi, valid, lo, hi)
    out = {"ndvi_soil": lo, "ndvi_veg": hi, "scope": params.fvc_endmember_scope, **info}
    if params.fvc_endmember_scope == "per_class" and params.ndvi_veg is None:
        out["per_class"] = per_class_veg_end(ndvi, landuse, valid, veg_codes, params, lo, fvc)
    if warnings:
        out["warnings"] = warnings
    return fvc, out


def per_class_veg_end(ndvi, landuse, valid, veg_codes, params: CsleParams, ndvi_soil: float,
                      fvc: np.ndarray) -> dict:
    """Each vegetated code's own full-cover end-member (its ``veg_percentile``), the practice of taking the
    percentiles within each land-use unit (VERIFIED-SECONDARY, docs/validation.md), with the pooled bare-soil
    end-member kept: a class's own 5th percentile would make 5 % of every forest bare.  ``fvc`` is overwritten on
    those codes' cells; a code with fewer than :data:`MIN_BARE_CELLS` cells keeps the pooled value."""
    used: dict = {}
    for code in veg_codes:
        m = valid & (landuse == code) & np.isfinite(ndvi)
        n = int(m.sum())
        hi = csle.ndvi_percentile(ndvi, m, params.veg_percentile) if n >= MIN_BARE_CELLS else None
        if hi is None or not hi > ndvi_soil:
            used[str(code)] = {"cells": n, "pooled": True}
            continue
        fvc[m] = np.clip((ndvi[m] - ndvi_soil) / (hi - ndvi_soil), 0.0, 1.0)
        used[str(code)] = {"cells": n, "ndvi_veg": hi}
    return used
