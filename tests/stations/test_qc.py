"""Station QC: every planted bad value is flagged, and nothing else; the flag order; the rules file."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from shuibao.errors import InputError, ReferenceDataError
from shuibao.stations.qc import FLAG_ORDER, QcRule, check_series, gap_days, load_qc_rules

RAIN = QcRule("rain_mm", "mm", max_value=1000.0, spike_factor=3.0, spike_min=250.0, quantile=99.0, wet_min=0.1,
              min_wet_days=30)


def natural_year(seed: int = 7) -> tuple[list[date], list[float]]:
    """A plausible Chongqing year: ~40 % wet days, gamma amounts, one genuine 180 mm storm; nothing bad."""
    rng = np.random.default_rng(seed)
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(366)]
    wet = rng.random(366) < 0.4
    rain = np.where(wet, np.minimum(rng.gamma(0.8, 12.0, 366), 120.0), 0.0).round(1)
    rain[200] = 180.0  # heavy but real: below spike_min, must stay ok
    return days, [float(v) for v in rain]


def planted() -> tuple[list[date], list[float], dict[int, str], list[date]]:
    days, rain = natural_year()
    bad = {date(2024, 2, 10): ("negative", -4.0), date(2024, 5, 3): ("impossible", 1500.0),
           date(2024, 7, 14): ("spike", 420.0), date(2024, 9, 9): ("missing", float("nan"))}
    for d, (_flag, v) in bad.items():
        rain[days.index(d)] = v
    gap = [date(2024, 10, 1) + timedelta(days=i) for i in range(6)]
    keep = [i for i, d in enumerate(days) if d not in gap]
    days, rain = [days[i] for i in keep], [rain[i] for i in keep]
    days.append(date(2024, 6, 1))  # a second record of 1 June, at the end of the file
    rain.append(8.0)
    expected = {days.index(d): flag for d, (flag, _v) in bad.items()}
    expected[len(days) - 1] = "duplicate"
    return days, rain, expected, gap


def test_every_planted_bad_value_is_flagged_and_nothing_else():
    days, rain, expected, gap = planted()
    res = check_series(days, rain, RAIN)
    flagged = {i: f for i, f in enumerate(res.flags) if f != "ok"}
    assert flagged == expected
    assert [d.item() for d in res.gaps] == gap
    assert res.counts() == {"duplicate": 1, "missing": 1, "negative": 1, "impossible": 1, "spike": 1,
                            "ok": len(days) - 5, "gap": 6}
    # the spike rule: S = P99 of the wet days at most spike_min; 420 > 3·S and > 250
    assert 420.0 > 3 * res.scale and 180.0 < 250.0
    assert "3 × P99" in res.notes[next(i for i, f in expected.items() if f == "spike")]
    rows = res.rows()  # records and gap days, in date order; gaps have no value
    assert len(rows) == len(days) + 6
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
    assert [(r["value"], r["flag"]) for r in rows if r["date"] == date(2024, 10, 3)] == [(None, "gap")]
    assert [r["flag"] for r in rows if r["date"] == date(2024, 6, 1)] == ["ok", "duplicate"]


def test_bad_values_are_kept_not_dropped():
    days, rain, expected, _gap = planted()
    res = check_series(days, rain, RAIN)
    assert len(res.values) == len(rain)
    assert res.values[[i for i, f in expected.items() if f == "impossible"][0]] == 1500.0


def test_clean_series_has_no_flag():
    days, rain = natural_year(seed=11)
    res = check_series(np.array(days, dtype="datetime64[D]"), rain, RAIN)
    assert set(res.flags) == {"ok"} and len(res.gaps) == 0


def test_flag_order_first_rule_wins():
    assert FLAG_ORDER == ("duplicate", "missing", "negative", "impossible", "spike", "ok")
    d = [date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    res = check_series(d, [5.0, -3.0, None, 5000.0, 400.0], RAIN)
    # a repeated date is a duplicate whatever its value; 5000 is impossible before it can be a spike
    assert list(res.flags) == ["ok", "duplicate", "missing", "impossible", "spike"]


def test_several_spikes_do_not_hide_each_other():
    days, rain = natural_year()
    rain[50], rain[51], rain[52] = 400.0, 400.0, 410.0
    res = check_series(days, rain, RAIN)
    assert [i for i, f in enumerate(res.flags) if f != "ok"] == [50, 51, 52]


def test_spike_needs_both_conditions():
    # a wet station: P99 of wet days ≈ 100 mm, so 3·S ≈ 300 > 280 > spike_min: not a spike
    d = [date(2024, 1, 1) + timedelta(days=i) for i in range(100)]
    v = [100.0] * 99 + [280.0]
    assert check_series(d, v, RAIN).flags[-1] == "ok"
    # a dry station: S ≈ 10, 3·S = 30 but 200 < spike_min: not a spike either
    v = [10.0] * 99 + [200.0]
    assert check_series(d, v, RAIN).flags[-1] == "ok"
    v = [10.0] * 99 + [260.0]
    assert check_series(d, v, RAIN).flags[-1] == "spike"


def test_too_few_wet_days_flag_everything_above_spike_min_and_scale_values_help():
    d = [date(2024, 7, 1) + timedelta(days=i) for i in range(5)]
    res = check_series(d, [0.0, 12.0, 280.0, 240.0, 0.0], RAIN)
    assert list(res.flags) == ["ok", "ok", "spike", "ok", "ok"] and np.isnan(res.scale)
    assert "too few wet days" in res.notes[2]
    # stored ok values of the same station join the wet days: 42 of them, S = P99 of
    # {12, 240, 100 × 40} = 100 + 0.59 · 140 = 182.6, 3·S > 280
    res = check_series(d, [0.0, 12.0, 280.0, 240.0, 0.0], RAIN, scale_values=[100.0] * 40)
    assert list(res.flags) == ["ok"] * 5 and res.scale == pytest.approx(182.6)


def test_gap_days():
    got = gap_days([date(2024, 2, 27), date(2024, 3, 2), date(2024, 2, 27)])
    assert [g.item() for g in got] == [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    assert len(gap_days([])) == 0
    assert len(gap_days([date(2024, 1, 2)], start=date(2024, 1, 1), end=date(2024, 1, 3))) == 2


def test_shipped_rules():
    rules = load_qc_rules()
    assert set(rules.rules) == {"rain_mm", "runoff_mm", "sediment_kg"}
    assert rules.verified is False and rules.note and rules.version
    r = rules.rule("rain_mm")
    assert (r.max_value, r.spike_factor, r.spike_min, r.quantile, r.min_completeness) == (1000, 3, 250, 99, 0.9)
    with pytest.raises(InputError, match="no QC rule"):
        rules.rule("temperature_c")


def test_bad_rules_file_reports_every_problem(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text('version = "x"\nsource = "y"\nverified = false\n'
                 '[variables.rain_mm]\nunit = "mm"\nmax_value = -1\nspike_factor = 3\nquantile = 120\ncolour = 1\n'
                 '[variables.runoff_mm]\nmax_value = 10\nspike_factor = 3\nspike_min = 1\nmin_wet_days = 0\n',
                 encoding="utf-8")
    with pytest.raises(ReferenceDataError) as err:
        load_qc_rules(p)
    msg = str(err.value)
    for part in ("note: required when verified = false", "rain_mm.max_value", "rain_mm.spike_min: required",
                 "rain_mm.quantile", "rain_mm.colour: unknown field", "runoff_mm.unit", "runoff_mm.min_wet_days"):
        assert part in msg, part
