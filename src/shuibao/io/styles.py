"""Map styles written beside a run's rasters: QGIS (.qml) and OGC SLD 1.0 (.sld) for grades and soil loss.

Both styles are generated from the run's grading — the soil-loss tolerance
(容许土壤流失量, 500 t/(km²·a) by default, a run parameter) and the four upper
bounds of SL 190-2007 (2500 / 5000 / 8000 / 15000 t/(km²·a), erosion/tables
grades.csv) — and from the grade colours of :data:`shuibao.core.csle.GRADE_COLOURS`,
so a style can never disagree with the grades of the raster it sits beside.

``grade.qml``       QGIS paletted renderer, one entry per grade code 1–6, labelled 微度 … 剧烈 with the bounds
``grade.sld``       SLD 1.0 RasterSymbolizer, ``ColorMap type="values"`` (the code → colour)
``soil_loss.qml``   QGIS single-band pseudocolour, DISCRETE ramp: a value takes the first class whose
                    upper bound it does not exceed (QGIS's rule), the last bound is ``inf``
``soil_loss.sld``   SLD 1.0, ``ColorMap type="intervals"``: an entry colours values below its quantity and at
                    or above the previous one — SL 190-2007's left-closed intervals (GeoServer's semantics)

``ColorMap``'s ``type`` attribute is the GeoServer extension QGIS also writes and reads; the
SLD 1.0.0 schema (OGC 02-070) has none, and without it a ColorMap is an interpolated ramp.
QGIS's DISCRETE rule puts a value exactly on a bound (500.0) in the lower class, where the
grade raster has the upper one; the grade raster is the record, the soil-loss style a picture.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..core.csle import GRADE_COLOURS, GRADE_NAMES_ZH, UPPER_BOUNDS
from .atomic import atomic_path

STYLE_FILES = ("grade.qml", "grade.sld", "soil_loss.qml", "soil_loss.sld")
SOIL_LOSS_UNIT = "t/(km²·a)"
_SLD = "http://www.opengis.net/sld"
_QML_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
_QGIS_VERSION = "3.28.0-Firenze"  # oldest long-term release these renderers are written for


def grade_classes(tolerance_t_km2: float = 500.0, upper_bounds: tuple[float, ...] = UPPER_BOUNDS
                  ) -> list[tuple[int, str, float, float, str]]:
    """(code, name, lower, upper, colour) of grades 1–6.

    微度 [0, tolerance), 轻度 [tolerance, 2500), 中度 [2500, 5000), 强烈 [5000, 8000), 极强烈 [8000, 15000),
    剧烈 [15000, ∞) t/(km²·a): SL 190-2007's left-closed classes (core.csle.grade).
    """
    if len(upper_bounds) != 4 or not 0 < tolerance_t_km2 < upper_bounds[0]:
        raise ValueError(f"tolerance {tolerance_t_km2} must lie below the first of four bounds {upper_bounds}")
    edges = (0.0, float(tolerance_t_km2), *map(float, upper_bounds), float("inf"))
    return [(code, GRADE_NAMES_ZH[code], edges[code - 1], edges[code], GRADE_COLOURS[code - 1])
            for code in range(1, 7)]


def grade_colormap() -> dict[int, tuple[int, int, int, int]]:
    """GDAL colour table of the grade raster: codes 1–6 in the grade colours, 0 (nodata) transparent."""
    table = {0: (0, 0, 0, 0)}
    for code, colour in enumerate(GRADE_COLOURS, start=1):
        table[code] = (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16), 255)
    return table


def _number(value: float) -> str:
    return "inf" if value == float("inf") else f"{value:g}"


def class_label(name: str, lower: float, upper: float) -> str:
    """"微度 < 500", "轻度 500–2500", …, "剧烈 ≥ 15000" (t/(km²·a))."""
    if lower <= 0:
        return f"{name} < {_number(upper)}"
    if upper == float("inf"):
        return f"{name} ≥ {_number(lower)}"
    return f"{name} {_number(lower)}–{_number(upper)}"


# --------------------------------------------------------------------------- QGIS
def _qml(renderer: ET.Element) -> str:
    root = ET.Element("qgis", version=_QGIS_VERSION, styleCategories="AllStyleCategories")
    pipe = ET.SubElement(root, "pipe")
    provider = ET.SubElement(pipe, "provider")
    ET.SubElement(provider, "resampling", enabled="false", maxOversampling="2",
                  zoomedInResamplingMethod="nearestNeighbour", zoomedOutResamplingMethod="nearestNeighbour")
    pipe.append(renderer)
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(pipe, "huesaturation", saturation="0", grayscaleMode="0", colorizeOn="0")
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(root, "blendMode").text = "0"
    ET.indent(root)
    return _QML_DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


def _renderer(kind: str, **attrs: str) -> ET.Element:
    r = ET.Element("rasterrenderer", {"type": kind, "band": "1", "opacity": "1", "alphaBand": "-1", "nodataColor": "",
                                      **attrs})
    ET.SubElement(r, "rasterTransparency")
    origin = ET.SubElement(r, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"), ("statAccuracy", "Estimated"),
                      ("cumulativeCutLower", "0.02"), ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(origin, tag).text = text
    return r


def grade_qml(tolerance_t_km2: float = 500.0, upper_bounds: tuple[float, ...] = UPPER_BOUNDS) -> str:
    """QGIS paletted style of ``grade.tif``: one ``paletteEntry`` per grade code."""
    r = _renderer("paletted")
    palette = ET.SubElement(r, "colorPalette")
    for code, name, lo, hi, colour in grade_classes(tolerance_t_km2, upper_bounds):
        ET.SubElement(palette, "paletteEntry", value=str(code), color=colour, alpha="255",
                      label=f"{code} {class_label(name, lo, hi)} {SOIL_LOSS_UNIT}")
    return _qml(r)


def soil_loss_qml(tolerance_t_km2: float = 500.0, upper_bounds: tuple[float, ...] = UPPER_BOUNDS) -> str:
    """QGIS classified (DISCRETE) pseudocolour style of ``soil_loss.tif`` at the grade bounds."""
    top = _number(upper_bounds[-1])  # the ramp's range; the last class (剧烈) runs on to ∞ with clip off
    r = _renderer("singlebandpseudocolor", classificationMin="0", classificationMax=top)
    # classificationMode 1 = continuous (QgsColorRampShader::ClassificationMode): the items are kept as written
    shader = ET.SubElement(ET.SubElement(r, "rastershader"), "colorrampshader", colorRampType="DISCRETE",
                           classificationMode="1", clip="0", minimumValue="0", maximumValue=top, labelPrecision="0")
    for _code, name, lo, hi, colour in grade_classes(tolerance_t_km2, upper_bounds):
        ET.SubElement(shader, "item", value=_number(hi), color=colour, alpha="255",
                      label=f"{class_label(name, lo, hi)} {SOIL_LOSS_UNIT}")
    return _qml(r)


# --------------------------------------------------------------------------- SLD 1.0
def _sld(layer: str, title: str, map_type: str, entries: list[tuple[str, str, str]]) -> str:
    ET.register_namespace("", _SLD)
    ET.register_namespace("ogc", "http://www.opengis.net/ogc")
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")

    def el(parent: ET.Element | None, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        e = ET.Element(f"{{{_SLD}}}{tag}", attrs) if parent is None else ET.SubElement(parent, f"{{{_SLD}}}{tag}",
                                                                                        attrs)
        if text is not None:
            e.text = text
        return e

    root = el(None, "StyledLayerDescriptor", version="1.0.0", **{
        "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation":
            "http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd"})
    named = el(root, "NamedLayer")
    el(named, "Name", layer)
    style = el(named, "UserStyle")
    el(style, "Name", layer)
    el(style, "Title", title)
    rule = el(el(style, "FeatureTypeStyle"), "Rule")
    symbolizer = el(rule, "RasterSymbolizer")
    el(symbolizer, "Opacity", "1.0")
    colour_map = el(symbolizer, "ColorMap", type=map_type)
    for colour, quantity, label in entries:
        el(colour_map, "ColorMapEntry", color=colour, quantity=quantity, label=label, opacity="1.0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def grade_sld(tolerance_t_km2: float = 500.0, upper_bounds: tuple[float, ...] = UPPER_BOUNDS) -> str:
    """SLD 1.0 of ``grade.tif``: ``ColorMap type="values"``, quantity = grade code; other codes stay transparent."""
    entries = [(colour, str(code), f"{code} {class_label(name, lo, hi)} {SOIL_LOSS_UNIT}")
               for code, name, lo, hi, colour in grade_classes(tolerance_t_km2, upper_bounds)]
    return _sld("grade", "SL 190-2007 土壤侵蚀强度分级 (water-erosion grade)", "values", entries)


# an interval colour map needs a finite last quantity; above float32's largest value (3.4e38) no cell lies
_LAST_QUANTITY = "1e39"


def soil_loss_sld(tolerance_t_km2: float = 500.0, upper_bounds: tuple[float, ...] = UPPER_BOUNDS) -> str:
    """SLD 1.0 of ``soil_loss.tif``: ``ColorMap type="intervals"``, quantity = the class's upper bound."""
    entries = [(colour, _LAST_QUANTITY if hi == float("inf") else _number(hi),
                f"{class_label(name, lo, hi)} {SOIL_LOSS_UNIT}")
               for _code, name, lo, hi, colour in grade_classes(tolerance_t_km2, upper_bounds)]
    return _sld("soil_loss", f"土壤侵蚀模数 soil loss modulus, {SOIL_LOSS_UNIT}", "intervals", entries)


def write_styles(folder: Path | str, tolerance_t_km2: float = 500.0,
                 upper_bounds: tuple[float, ...] = UPPER_BOUNDS) -> list[Path]:
    """Write the four style files of :data:`STYLE_FILES` into ``folder``, each atomically; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {"grade.qml": grade_qml, "grade.sld": grade_sld, "soil_loss.qml": soil_loss_qml,
             "soil_loss.sld": soil_loss_sld}
    written = []
    for name in STYLE_FILES:
        text = texts[name](tolerance_t_km2, upper_bounds)
        with atomic_path(folder / name) as tmp:
            tmp.write_text(text, encoding="utf-8")
        written.append(folder / name)
    return written
