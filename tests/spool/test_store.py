"""The spool on its own: durable round trip, queue limit, one owner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from printserver.errors import SpoolError
from printserver.model.pixels import GrayscaleImage
from printserver.model.spooled_job import FilmJob, ImageBoxJob, PrintJob
from printserver.spool.store import Spool


def job() -> PrintJob:
    img8 = GrayscaleImage(np.arange(6, dtype=np.uint8).reshape(2, 3), 8, "MONOCHROME1", (1, 2))
    img12 = GrayscaleImage(np.array([[4095, 1]], np.uint16), 12, "MONOCHROME2")
    boxes = (ImageBoxJob(1, "NORMAL", "CUBIC", "", 20, 300, "", img8),
             ImageBoxJob(2, "REVERSE", "NONE", "", 10, 250, "", img12),
             ImageBoxJob(3, "NORMAL", "CUBIC", "", 20, 300, "", None))
    attrs = {"ImageDisplayFormat": "STANDARD\\3,1", "BorderDensity": "BLACK", "EmptyImageDensity": "WHITE",
             "MinDensity": 20, "MaxDensity": 300, "Trim": "NO"}
    film = FilmJob(4, "1.2.3", attrs, 355.6, 431.8, 300, 4.0, 2.0, boxes)
    return PrintJob("2.25.1", "2026-11-24T10:00:00.000000+00:00", "CT", "PRINTSCP", "p", "1.2", {"NumberOfCopies": 2},
                    (film,))


def test_round_trip_is_exact(tmp_path: Path) -> None:
    spool = Spool(tmp_path).open()
    path = spool.submit(job(), {"pdf_dir": "/x"})
    assert spool.pending() == [path]
    loaded, outputs = Spool.load(path)
    assert outputs == {"pdf_dir": "/x"}
    original = job()
    assert loaded.films[0].attributes == original.films[0].attributes
    for a, b in zip(loaded.films[0].image_boxes, original.films[0].image_boxes, strict=True):
        assert (a.position, a.polarity, a.magnification_type, a.min_density) == \
            (b.position, b.polarity, b.magnification_type, b.min_density)
        if b.image is None:
            assert a.image is None
        else:
            assert np.array_equal(a.image.pixels, b.image.pixels) and a.image.pixels.dtype == b.image.pixels.dtype
            assert a.image.pixel_aspect_ratio == b.image.pixel_aspect_ratio
    spool.finish(path)
    assert spool.pending() == []


def test_queue_full_is_reported(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_jobs=1).open()
    spool.submit(job(), {})
    with pytest.raises(SpoolError) as exc:
        spool.submit(job(), {})
    assert exc.value.queue_full


def test_one_server_per_spool(tmp_path: Path) -> None:
    Spool(tmp_path).open()
    with pytest.raises(SpoolError, match="in use"):
        Spool(tmp_path).open()


def test_failed_jobs_are_kept_with_the_reason(tmp_path: Path) -> None:
    spool = Spool(tmp_path).open()
    path = spool.submit(job(), {})
    kept = spool.fail(path, "boom")
    assert kept.exists() and spool.pending() == []
    assert (tmp_path / "failed" / f"{path.stem}.reason.txt").read_text().strip() == "boom"


def test_encoding_a_job_never_copies_its_images(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server encodes a Print's job while the modality waits for the answer: the pixels go to the file
    as they are (memoryviews of the arrays), never through a deep copy (dataclasses.asdict makes one)."""
    import copy

    from printserver.spool.store import encode_job

    copied: list[type] = []
    deepcopy = copy.deepcopy

    def watching(obj: object, memo: object = None) -> object:
        copied.append(type(obj))
        return deepcopy(obj, memo)  # type: ignore[arg-type]

    monkeypatch.setattr(copy, "deepcopy", watching)
    original = job()
    parts = encode_job(original, {"printer": "P"})
    assert np.ndarray not in copied and copied  # asdict still runs, on everything but the pixels
    images = [b.image for b in original.films[0].image_boxes if b.image is not None]
    assert [p.obj is i.pixels for p, i in zip(parts[3:], images, strict=True)] == [True, True]
