"""Numbers as people write them are read as numbers, the same way at training and for new rows; codes with leading
zeros stay text."""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autopilot.data import profile_table, read_table
from autopilot.data.numbers import number_format, read_numbers
from autopilot.deploy.batch import chunks
from autopilot.preprocess import make_coercer

EUROPEAN = "zip;price;share;amount;y\n02134;1.234,50 €;45%;535,55;a\n10001;12,00 €;5%;1.000,5;b\n00501;3,5 €;100%;7;a\n"
AMERICAN = 'zip,price,n,y\n02134,"$1,200",1,a\n10001,$5.50,"1,234",b\n00501,$3,"12,345.5",a\n'


@pytest.mark.parametrize(
    ("values", "decimal_comma", "expected"),
    [
        (["1.234,5", "535,55"], False, {"decimal": ",", "percent": False, "currency": ""}),
        (["1,234.5", "12"], False, {"decimal": ".", "percent": False, "currency": ""}),
        (["1,234", "12"], False, {"decimal": ".", "percent": False, "currency": ""}),  # thousands, in a , file
        (["1,234", "12"], True, {"decimal": ",", "percent": False, "currency": ""}),  # a decimal, in a ; file
        (["$1,200", "-$5"], False, {"decimal": ".", "percent": False, "currency": "$"}),
        (["45%", "7.5%"], False, {"decimal": ".", "percent": True, "currency": ""}),
        (["12", "3.5"], False, None),  # plain numbers: the reader's business
        (["45%", "7"], False, None),  # some percentages: not one format
        (["1,2,3", "4"], False, None),
        (["red", "1,5"], False, None),
    ],
)
def test_number_formats(values: list[str], decimal_comma: bool, expected: dict | None) -> None:
    assert number_format(values, decimal_comma) == expected


def test_reading_numbers_in_a_format() -> None:
    comma = {"decimal": ",", "percent": False, "currency": "€"}
    read = read_numbers(pd.Series(["1.234,5 €", "-7", " 3,25", "1,2,3", None, "abc"]), comma)
    assert read.tolist()[:3] == [1234.5, -7.0, 3.25] and read.iloc[3:].isna().all()
    assert read_numbers(pd.Series(["45%", "100%"]), {"decimal": ".", "percent": True, "currency": ""}).tolist() == [
        0.45,
        1.0,
    ]


@pytest.mark.parametrize(("text", "bom"), [(EUROPEAN, True), (AMERICAN, False)])
def test_exports_read_as_numbers_and_new_rows_the_same_way(tmp_path: Path, text: str, bom: bool) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode())
    table, _ = read_table(path)
    assert table.column("zip").to_pylist() == ["02134", "10001", "00501"]  # codes keep their zeros
    profile = profile_table(table, "y")
    kinds = {c["name"]: c["kind"] for c in profile["column_profiles"]}
    assert [k for name, k in kinds.items() if name not in ("zip", "y")] == ["numeric"] * (len(kinds) - 2)
    new_rows = next(chunks(path))  # new rows as batch reads them: every value as text
    cast = make_coercer(profile, "y").transform(new_rows)
    for name, kind in kinds.items():
        if kind == "numeric":
            np.testing.assert_array_equal(cast[name].to_numpy(), table.column(name).to_numpy(), err_msg=name)
    expected = {"price": [1234.5, 12.0, 3.5], "share": [0.45, 0.05, 1.0], "amount": [535.55, 1000.5, 7.0]}
    expected = expected if bom else {"price": [1200.0, 5.5, 3.0], "n": [1.0, 1234.0, 12345.5]}
    assert {name: table.column(name).to_pylist() for name in expected} == expected
