"""The acceptance report as a PDF: opened with pypdf, as a QA lead's viewer would, and read back."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

from printserver.views import acceptance
from printserver.views.acceptance_pdf import acceptance_pdf
from tests.views.test_transcripts import TRANSCRIPT, message
from tests.web.test_actions import console, csrf_of


def text_of(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_the_report_pdf_names_the_ae_its_counts_and_findings(spool: Path) -> None:
    with console(spool, []) as c:
        assert 'href="/acceptance/CT1/report.pdf"' in c.get("/acceptance/CT1").text
        answer = c.get("/acceptance/CT1/report.pdf")
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
        assert answer.headers["content-disposition"] == 'inline; filename="acceptance-CT1.pdf"'
        download = c.get("/acceptance/CT1/report.pdf?download=1").headers["content-disposition"]
        assert download == 'attachment; filename="acceptance-CT1.pdf"'
        assert csrf_of(c)  # (the page itself is a normal console page)
    reader, text = text_of(answer.content)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    assert reader.metadata is not None and reader.metadata.title == "Acceptance report CT1"
    flat = " ".join(text.split())
    assert "Modality acceptance report: CT1" in flat
    assert "Associations recorded: 1" in flat and "Prints answered Success: 1, refused: 0; jobs: 1." in flat
    assert "Stored Print Storage SOP Class" in flat  # proposed, not accepted
    assert "ImageDisplayFormat" in flat and "STANDARD\\1,1 (1)" in flat
    assert "Polarity 'INVERSE' is not NORMAL or REVERSE" in flat
    assert "MaxDensity '400' asked, '300' used" in flat


def test_a_long_report_breaks_across_pages_and_escapes_markup() -> None:
    many = [TRANSCRIPT | {"messages": [
        message(1, "in", "N-SET-RQ", "Basic Grayscale Image Box SOP Class", mid=1),
        message(2, "out", "N-SET-RSP", "Basic Grayscale Image Box SOP Class", mid=1, status=0x0106,
                error_comment=f"Polarity '<b>{n}</b> & more' is not NORMAL", attributes=["Polarity"])]}
        for n in range(120)]
    r = acceptance.report("CT<&>", many)
    reader, text = text_of(acceptance_pdf(r))
    flat = " ".join(text.split())
    assert len(reader.pages) > 2
    assert "Modality acceptance report: CT<&>" in flat
    assert all(f"Polarity '<b>{n}</b> & more' is not NORMAL" in flat for n in range(120))
    assert "page 3" in flat
