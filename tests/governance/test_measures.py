"""The measure table's validator reports every problem at once, in the one "N problem(s)" format."""

from __future__ import annotations

import pytest

from shuibao.errors import ReferenceDataError
from shuibao.governance.measures import load_measures


def test_every_problem_of_a_measure_table_at_once(tmp_path):
    p = tmp_path / "measures.toml"
    p.write_text('version = "x"\nsource = "y"\n[[measures]]\nkey = "a"\nname_zh = "甲"\nb = 2.0\nzz = 1\n'
                 '[[measures]]\nkey = "a"\nname_zh = "乙"\ne_code = 99\n', encoding="utf-8")
    with pytest.raises(ReferenceDataError) as err:
        load_measures(p, e_codes={1, 2})
    text = str(err.value)
    assert text.startswith(f"{p}: 4 problem(s):\n  - ")
    for part in ("zz: unknown field", "b: 2.0 is not a factor", "e_code: 99", "'a' is used twice"):
        assert part in text
    assert len(err.value.issues) == 4


def test_the_shipped_table_loads():
    assert load_measures().get("afforestation") is not None
