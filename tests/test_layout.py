"""Image Display Format parsing and position numbering (PS3.3 C.13.5.1), without network."""

import pytest

from printserver.layout import film_dimensions, image_box_rects, load_layouts, parse_display_format


@pytest.mark.parametrize(("value", "count"), [
    ("STANDARD\\1,1", 1), ("STANDARD\\4,5", 20), ("ROW\\2,3,1", 6), ("COL\\1,2", 3),
])
def test_box_count(value: str, count: int) -> None:
    assert parse_display_format(value).box_count == count


@pytest.mark.parametrize("value", ["STANDARD", "STANDARD\\2", "STANDARD\\0,1", "GRID\\2,2", "ROW\\a,b", "ROW\\"])
def test_bad_formats_are_refused_with_reason(value: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse_display_format(value)


def test_max_boxes() -> None:
    with pytest.raises(ValueError, match="maximum of 10"):
        parse_display_format("STANDARD\\4,4", max_boxes=10)


def test_standard_is_columns_by_rows_numbered_row_major() -> None:
    rects = image_box_rects(parse_display_format("STANDARD\\3,2"), 300, 200, margin=0, gap=0)
    assert [(r.x, r.y) for r in rects] == [(0, 0), (100, 0), (200, 0), (0, 100), (100, 100), (200, 100)]


def test_row_format_numbers_row_by_row() -> None:
    rects = image_box_rects(parse_display_format("ROW\\1,2"), 200, 200, margin=0, gap=0)
    assert [(r.x, r.y, r.width, r.height) for r in rects] == [(0, 0, 200, 100), (0, 100, 100, 100),
                                                              (100, 100, 100, 100)]


def test_col_format_numbers_column_by_column() -> None:
    rects = image_box_rects(parse_display_format("COL\\2,1"), 200, 200, margin=0, gap=0)
    assert [(r.x, r.y, r.width, r.height) for r in rects] == [(0, 0, 100, 100), (0, 100, 100, 100),
                                                              (100, 0, 100, 200)]


def test_margin_and_gap() -> None:
    a, b = image_box_rects(parse_display_format("STANDARD\\2,1"), 110, 50, margin=5, gap=2)
    assert (a.x, a.width, b.x, b.width) == (5, 49, 56, 49)
    assert (a.y, a.height) == (5, 40)


def test_all_twelve_film_sizes_and_orientation() -> None:
    sizes = load_layouts().film_sizes
    assert len(sizes) == 12
    assert sizes["14INX17IN"] == (355.6, 431.8)
    assert sizes["A4"] == (210.0, 297.0)
    assert film_dimensions("14INX17IN", "LANDSCAPE", load_layouts()) == (431.8, 355.6)
