"""A commented run spec generated from the declared inputs and parameters (``shuibao monitor template``)."""

from __future__ import annotations

from .spec import EXECUTION, INPUTS, PARAMETERS, TABLES

_EXAMPLE = {"dem": "inputs/dem.tif", "landuse": "inputs/landuse.tif", "ndvi": "inputs/ndvi.tif",
            "rain": "inputs/rain.csv", "soil": "inputs/soil.tif", "soil_table": "inputs/soil.csv",
            "measures": "inputs/measures.tif", "districts": "store"}


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def spec_template() -> str:
    lines = ["# Shuibao monitoring run spec (年度水土流失动态监测). Paths are relative to this file.",
             "", "[run]", 'name = "重庆市 2025 年水土流失动态监测"', "year = 2025", 'output = "output/2025"',
             "synthetic = false          # true labels every output as made from synthetic inputs", "",
             "[grid]", '# crs = "EPSG:4545"        # target CRS (projected, metres); default: the DEM\'s',
             "# resolution_m = 30         # target cell size; default: the DEM's", "", "[inputs]"]
    for s in INPUTS:
        example = _EXAMPLE.get(s.key)
        line = f"{s.key} = {_toml(example)}" if example else f'# {s.key} = "…"'
        lines.append(f"{line:<40} # [{s.units}] {s.about}")
    lines += ["", "[parameters]"]
    for p in PARAMETERS:
        line = f"{p.key} = {_toml(p.default)}" if p.default is not None else f"# {p.key} = …"
        extra = f" ({' | '.join(p.choices)})" if p.choices else ""
        lines.append(f"{line:<40} # [{p.units}] {p.about}{extra}")
    lines += ["", "[tables]                                 # own lookup tables (CSV) replacing the shipped ones"]
    lines += [f'# {t} = "my_{t}.csv"' for t in TABLES]
    lines += ["", "[execution]                              # where the blockwise steps run; results are identical"]
    for p in EXECUTION:
        extra = f" ({' | '.join(p.choices)})" if p.choices else ""
        lines.append(f"{p.key + ' = ' + _toml(p.default):<40} # {p.about}{extra}")
    return "\n".join(lines) + "\n"
