"""Transcribe 附表1 and 附表2 of the plan text into the package's CSV files.

Run once by a maintainer when the seed changes; the CSVs it writes are committed
and reviewed by hand (they are the platform's reference data, not this script).
Values are kept exactly as printed (``"60.70"`` stays ``60.70``); empty cells
stay empty.  Usage::

    python tools/transcribe_plan.py ../shared/seed/chongqing-swc-plan-2021-2025.txt
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "src" / "shuibao" / "plan" / "data"
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

SCHEDULE1_COLUMNS = [
    "total_km2", "slight_km2", "slight_pct",
    "light_km2", "light_pct", "moderate_km2", "moderate_pct",
    "intense_km2", "intense_pct", "very_intense_km2", "very_intense_pct",
    "severe_km2", "severe_pct", "loss_km2", "loss_pct",
]
AGGREGATE_KIND = {"主城都市区": "region", "渝东北三峡库区城镇群": "region",
                  "渝东南武陵山区城镇群": "region", "三峡库区": "three_gorges", "全市": "city"}


def tokens(lines: list[str]) -> list[str]:
    return [cell.strip() for line in lines for cell in line.split("\t") if cell.strip()]


def rows_of(tok: list[str]) -> list[tuple[str, str, list[str]]]:
    """Split a token stream into (seq, label, numbers); aggregate rows have seq ''."""
    rows: list[tuple[str, str, list[str]]] = []
    i = 0
    while i < len(tok):
        if NUMBER.match(tok[i]) and i + 1 < len(tok) and not NUMBER.match(tok[i + 1]):
            seq, i = tok[i], i + 1
        else:
            seq = ""
        label = []
        while i < len(tok) and not NUMBER.match(tok[i]):
            label.append(tok[i])
            i += 1
        numbers = []
        while i < len(tok) and NUMBER.match(tok[i]):
            if numbers and i + 1 < len(tok) and not NUMBER.match(tok[i + 1]) and "." not in tok[i]:
                break  # an integer followed by a name starts the next row
            numbers.append(tok[i])
            i += 1
        rows.append((seq, "".join(label), numbers))
    return rows


def main(seed: str) -> None:
    lines = Path(seed).read_text(encoding="utf-8").splitlines()
    a = next(i for i, l in enumerate(lines) if l.startswith("附表1"))
    b = next(i for i, l in enumerate(lines) if l.startswith("附表2"))
    t1 = tokens(lines[a + 1:b])
    t1 = t1[t1.index("1"):]  # skip the header
    with open(DATA / "schedule1_erosion_2020.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["source", "seq", "label", "row_kind", *SCHEDULE1_COLUMNS])
        for seq, label, nums in rows_of(t1):
            kind = "district" if seq else AGGREGATE_KIND[label]
            nums = nums + [""] * (len(SCHEDULE1_COLUMNS) - len(nums))
            w.writerow(["附表1", seq, label, kind, *nums])
    t2 = tokens(lines[b + 1:])
    t2 = t2[t2.index("1"):]
    region = ""
    with open(DATA / "schedule2_targets.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["source", "seq", "region_label", "label", "row_kind", "rate_2020_pct", "target_2025_pct"])
        for seq, label, nums in rows_of(t2):
            if seq:
                for name in AGGREGATE_KIND:
                    if label.startswith(name) and AGGREGATE_KIND[name] == "region":
                        region, label = name, label[len(name):]
                w.writerow(["附表2", seq, region, label, "district", *nums])
            elif label == "总体平均":
                w.writerow(["附表2", "", region, label, "region", *nums])
            else:
                w.writerow(["附表2", "", "", label, AGGREGATE_KIND[label], *nums])


if __name__ == "__main__":
    main(sys.argv[1])
