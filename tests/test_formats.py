"""Layouts as data without network: SLIDE, SUPERSLIDE, CUSTOM\\i, annotation formats, the admin overlay."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from printserver import config
from printserver.errors import ConfigError
from printserver.layout import annotation_rects, image_box_rects, load_layouts, parse_display_format
from printserver.model.color import ColorImage
from printserver.model.job import AnnotationBoxJob, FilmJob, ImageBoxJob, PrintJob
from printserver.spool.store import decode_job, encode_job


def rects(fmt: str, size: tuple[float, float] = (355.6, 431.8), layouts_dir: str | None = None, annotation=None):
    layouts = load_layouts(layouts_dir)
    return image_box_rects(parse_display_format(fmt), *size, margin=layouts.margin_mm, gap=layouts.gap_mm,
                           display_formats=layouts.display_formats, annotation=annotation)


def test_slide_is_24_frames_of_36x24_mm_centred_row_by_row() -> None:
    r = rects("SLIDE")
    assert len(r) == 24
    assert all((b.width, b.height) == (36.0, 24.0) for b in r)
    assert r[1].x - r[0].x == 38.0 and r[4].y - r[0].y == 26.0  # row-major, 2 mm gap
    grid_w = 4 * 36 + 3 * 2
    assert r[0].x == pytest.approx((355.6 - grid_w) / 2)


def test_superslide_is_20_square_frames_and_refused_where_it_does_not_fit() -> None:
    assert [(b.width, b.height) for b in rects("SUPERSLIDE", (203.2, 254.0))] == [(40.0, 40.0)] * 20
    with pytest.raises(ValueError, match="needs 166 x 208 mm"):
        rects("SUPERSLIDE", (254.0, 203.2))  # 8x10 landscape


def test_custom_formats_number_boxes_in_list_order_inside_the_image_area() -> None:
    r = rects("CUSTOM\\1", (210.0, 297.0))
    assert len(r) == 3
    assert (r[0].x, r[0].y, r[0].width) == (4.0, 4.0, 202.0)  # area = film inside the 4 mm margin
    assert r[1].y > r[0].y + r[0].height and r[2].x > r[1].x
    with pytest.raises(ValueError, match="not defined"):
        rects("CUSTOM\\9")


@pytest.mark.parametrize("value", ["SLIDE\\2", "CUSTOM", "CUSTOM\\0", "CUSTOM\\x"])
def test_bad_data_format_values(value: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse_display_format(value)


def test_annotation_strips_shrink_the_image_area() -> None:
    label = load_layouts().annotation_formats["LABEL"]
    (whole,) = rects("STANDARD\\1,1", (200.0, 300.0))
    (with_label,) = rects("STANDARD\\1,1", (200.0, 300.0), annotation=label)
    assert with_label.height == whole.height - label.band_mm - 2.0 and with_label.y == whole.y
    (text,) = annotation_rects(label, 200.0, 300.0, margin=4.0)
    assert (text.x, text.y, text.width, text.height) == (4.0, 300.0 - 4.0 - 10.0, 192.0, 10.0)
    assert text.y >= with_label.y + with_label.height  # text never over an image
    corners = annotation_rects(load_layouts().annotation_formats["ANNOTATION"], 200.0, 300.0, margin=4.0)
    assert [(c.x, c.y) for c in corners] == [(4.0, 4.0), (100.0, 4.0), (4.0, 288.0), (100.0, 288.0)]


def test_an_admin_folder_adds_formats_and_replaces_built_in_ones(tmp_path: Path) -> None:
    (tmp_path / "display_formats.toml").write_text(
        '[SLIDE]\nbox_mm = [36.0, 24.0]\ncolumns = 2\nrows = 3\n'
        '[CUSTOM.7]\nunits = "mm"\nboxes = [[10, 10, 50, 50], [100, 10, 50, 50]]\n')
    (tmp_path / "annotation_formats.toml").write_text(
        '[PATIENT]\nband_mm = 6\nfont_size_pt = 10\nboxes = [{ band = "TOP", align = "RIGHT" }]\n')
    layouts = load_layouts(str(tmp_path))
    assert {"SUPERSLIDE", "CUSTOM\\1", "CUSTOM\\7"} <= set(layouts.display_formats)
    assert set(layouts.annotation_formats) == {"LABEL", "ANNOTATION", "PATIENT"}
    assert len(rects("SLIDE", layouts_dir=str(tmp_path))) == 6
    assert [(b.x, b.y) for b in rects("CUSTOM\\7", layouts_dir=str(tmp_path))] == [(10, 10), (100, 10)]
    with pytest.raises(ValueError, match="outside"):
        rects("CUSTOM\\7", (120.0, 120.0), layouts_dir=str(tmp_path))


@pytest.mark.parametrize(("text", "key"), [
    ('[SLIDE]\nbox_mm = [36]\ncolumns = 2\nrows = 3\n', "SLIDE.box_mm"),
    ('[CUSTOM.1]\nboxes = [[0.5, 0, 0.6, 1]]\n', "CUSTOM.1.boxes[1]"),
    ('[CUSTOM.x]\nboxes = [[0, 0, 1, 1]]\n', "CUSTOM.x"),
    ('[GRID]\nrows = 1\n', "GRID"),
])
def test_bad_layout_data_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    (tmp_path / "display_formats.toml").write_text(text)
    with pytest.raises(ValueError) as exc:
        load_layouts(str(tmp_path))
    assert f"display_formats.toml: {key} " in str(exc.value)


def test_config_offers_only_defined_formats_and_ids() -> None:
    with pytest.raises(ConfigError, match=r"^printer\[0\]\.display_format_kinds"):
        config.from_dict({"printer": [{"display_format_kinds": ["STANDARD", "HEXAGON"]}]})
    with pytest.raises(ConfigError, match=r"^printer\[0\]\.annotation_display_format_ids: 'NOPE'"):
        config.from_dict({"printer": [{"annotation_display_format_ids": ["LABEL", "NOPE"]}]})


def test_spool_round_trip_keeps_color_pixels_rects_and_annotations() -> None:
    rgb = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    box = ImageBoxJob(1, "NORMAL", "NONE", "", 20, 300, "", ColorImage(rgb, (1, 2)))
    note = AnnotationBoxJob(1, "Иванов 山田", 4.0, 280.0, 100.0, 10.0, 12.0, "CENTER")
    film = FilmJob(1, "1.2", {"ImageDisplayFormat": "CUSTOM\\1"}, 210.0, 297.0, 300, 4.0, 2.0, (box,),
                   box_rects_mm=((4.0, 4.0, 50.0, 60.0),), annotations=(note,))
    job = PrintJob("1.2.3", "2026-01-01T00:00:00+00:00", "A", "B", "P", "1.2.4", {}, (film,))
    back, _ = decode_job(b"".join(bytes(p) for p in encode_job(job, {})))
    (f,) = back.films
    assert f.color and np.array_equal(f.image_boxes[0].image.pixels, rgb)
    assert f.image_boxes[0].image.pixel_aspect_ratio == (1, 2)
    assert f.box_rects_mm == ((4.0, 4.0, 50.0, 60.0),) and f.annotations == (note,)
    assert replace(f, image_boxes=()) == replace(film, image_boxes=())


def test_formats_does_not_import_layout() -> None:
    """One direction only: layout.py builds on formats.py (the data definitions), never the reverse."""
    import subprocess
    import sys

    code = "import sys, printserver.formats; sys.exit('printserver.layout' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
