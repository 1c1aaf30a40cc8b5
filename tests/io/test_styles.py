"""QML and SLD styles of the grade and soil-loss rasters, and the grade raster's colour table.

Oracles: SL 190-2007 表 (grade names and bounds, as docs/erosion-engine.md lists them), the bulletin colours
written out here as RGB by hand, and the element names of the SLD 1.0.0 schema (OGC 02-070) and of QGIS 3's
raster renderers (paletted: ``colorPalette/paletteEntry``; pseudocolour: ``rastershader/colorrampshader/item``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
import rasterio

from shuibao.grid import GridSpec
from shuibao.io import raster as rio
from shuibao.io import styles

NAMES = ["微度", "轻度", "中度", "强烈", "极强烈", "剧烈"]
RGB = [(56, 168, 0), (255, 255, 0), (255, 170, 0), (255, 85, 0), (230, 0, 0), (115, 0, 0)]
HEX = ["#38a800", "#ffff00", "#ffaa00", "#ff5500", "#e60000", "#730000"]
SLD = "{http://www.opengis.net/sld}"
# elements of the SLD 1.0.0 schema (StyledLayerDescriptor.xsd) a raster style may use
SLD_10_ELEMENTS = {"StyledLayerDescriptor", "NamedLayer", "Name", "UserStyle", "Title", "Abstract", "IsDefault",
                   "FeatureTypeStyle", "Rule", "RasterSymbolizer", "Opacity", "ColorMap", "ColorMapEntry",
                   "ChannelSelection", "GrayChannel", "SourceChannelName", "ContrastEnhancement", "OverlapBehavior"}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("styles")
    return folder, styles.write_styles(folder, tolerance_t_km2=200.0, upper_bounds=(2500, 5000, 8000, 15000))


def test_four_files_beside_the_rasters_nothing_else(written):
    folder, paths = written
    assert sorted(p.name for p in paths) == sorted(["grade.qml", "grade.sld", "soil_loss.qml", "soil_loss.sld"])
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)  # no temporary left


def _qml(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE qgis")
    root = ET.fromstring(text)
    assert root.tag == "qgis" and root.get("version", "").startswith("3.")
    renderer = root.find("pipe/rasterrenderer")
    assert renderer is not None and renderer.get("band") == "1"
    return renderer


def test_grade_qml_is_a_paletted_renderer_with_six_grades(written):
    folder, _ = written
    r = _qml(folder / "grade.qml")
    assert r.get("type") == "paletted"
    entries = r.findall("colorPalette/paletteEntry")
    assert [e.get("value") for e in entries] == ["1", "2", "3", "4", "5", "6"]
    assert [e.get("color") for e in entries] == HEX
    labels = [e.get("label") for e in entries]
    assert [lb.split()[1] for lb in labels] == NAMES
    # the run's tolerance (200 here, not the default 500) bounds 微度 and 轻度
    assert labels[0] == "1 微度 < 200 t/(km²·a)" and labels[1] == "2 轻度 200–2500 t/(km²·a)"
    assert labels[5] == "6 剧烈 ≥ 15000 t/(km²·a)"


def test_soil_loss_qml_is_a_discrete_ramp_at_the_grade_bounds(written):
    folder, _ = written
    r = _qml(folder / "soil_loss.qml")
    assert r.get("type") == "singlebandpseudocolor"
    shader = r.find("rastershader/colorrampshader")
    assert shader.get("colorRampType") == "DISCRETE"
    items = shader.findall("item")
    assert [i.get("value") for i in items] == ["200", "2500", "5000", "8000", "15000", "inf"]
    assert [i.get("color") for i in items] == HEX
    assert [i.get("label").split()[0] for i in items] == NAMES


def _sld(path):
    root = ET.fromstring(path.read_text(encoding="utf-8"))
    assert root.tag == f"{SLD}StyledLayerDescriptor" and root.get("version") == "1.0.0"
    tags = {e.tag for e in root.iter()}
    assert all(t.startswith(SLD) for t in tags)
    assert {t[len(SLD):] for t in tags} <= SLD_10_ELEMENTS
    cmap = root.find(f"{SLD}NamedLayer/{SLD}UserStyle/{SLD}FeatureTypeStyle/{SLD}Rule/{SLD}RasterSymbolizer/"
                     f"{SLD}ColorMap")
    assert cmap is not None
    entries = cmap.findall(f"{SLD}ColorMapEntry")
    assert all(set(e.attrib) <= {"color", "opacity", "quantity", "label"} for e in entries)  # SLD 1.0 attributes
    return cmap, entries


def test_grade_sld_maps_each_code_to_its_colour(written):
    folder, _ = written
    cmap, entries = _sld(folder / "grade.sld")
    assert cmap.get("type") == "values"
    assert [(e.get("quantity"), e.get("color")) for e in entries] == [(str(i), c) for i, c in enumerate(HEX, 1)]
    assert [e.get("label").split()[1] for e in entries] == NAMES


def test_soil_loss_sld_intervals_end_at_the_upper_bounds(written):
    folder, _ = written
    cmap, entries = _sld(folder / "soil_loss.sld")
    assert cmap.get("type") == "intervals"
    quantities = [float(e.get("quantity")) for e in entries]
    assert quantities[:5] == [200, 2500, 5000, 8000, 15000] and quantities[5] > float(np.finfo(np.float32).max)
    assert [e.get("color") for e in entries] == HEX


def test_grade_colour_table_survives_the_cog_copy(tmp_path):
    grid = GridSpec((600, 600), (30.0, 0, 400000.0, 0, -30.0, 3350000.0), "EPSG:4545")
    grades = np.arange(600 * 600, dtype=np.int64).reshape(600, 600) % 7
    rio.write_cog(tmp_path / "grade.tif", grades.astype(np.uint8), grid, nodata=0, categorical=True,
                  colormap=styles.grade_colormap())
    with rasterio.open(tmp_path / "grade.tif") as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG" and src.overviews(1)
        assert src.colorinterp[0].name == "palette"
        table = src.colormap(1)
    assert [table[code][:3] for code in range(1, 7)] == RGB
    assert table[0][3] == 0  # the nodata code is transparent
