"""The modality acceptance report as a PDF (A4), beside the page and the Markdown (views/acceptance.py).

What a QA lead prints or files with an installation record: the same data as the Markdown, laid out
as headed tables that break across pages. Made with reportlab's platypus (tables, wrapping, page
breaks), imported only when a report is asked for. Text is escaped for reportlab's mini-markup, and the
base-14 Helvetica covers Latin-1: other characters (rare in DICOM attribute values) print as "?".
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape


def _text(value: Any) -> str:
    return escape(str(value).encode("latin-1", "replace").decode("latin-1"))


def acceptance_pdf(r: dict[str, Any]) -> bytes:
    """The report `views.acceptance.report` made, as PDF bytes."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["BodyText"].clone("small", fontSize=8, leading=10)
    story: list[Any] = [
        Paragraph(f"Modality acceptance report: {_text(r['calling_ae'])}", styles["Title"]),
        Paragraph(f"Associations recorded: {r['associations']} ({_text(r['first'])} .. {_text(r['last'])}). "
                  f"Prints answered Success: <b>{r['prints']}</b>, refused: <b>{r['failed_prints']}</b>; "
                  f"jobs: {r['jobs']}.", body),
        Spacer(1, 4 * mm),
    ]
    width = A4[0] - 40 * mm

    def table(rows: list[list[Any]], widths: list[float]) -> Table:
        t = Table(rows, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#263238")),
                               ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("ALIGN", (-1, 1), (-1, -1), "RIGHT")]))
        return t

    def counts(title: str, head: str, d: dict[str, int]) -> None:
        story.append(Paragraph(_text(title), styles["Heading2"]))
        if not d:
            story.append(Paragraph("(none)", body))
            return
        rows = [[head, "count"], *[[Paragraph(_text(k or "(empty)"), small), v] for k, v in d.items()]]
        story.append(table(rows, [width - 25 * mm, 25 * mm]))

    counts("Printers called", "called AE", r["called_aes"])
    counts("Implementation", "implementation class UID / version", r["implementations"])
    counts("Association outcomes", "outcome", r["outcomes"])
    counts("SOP classes accepted", "SOP class", r["sop_classes"])
    counts("SOP classes proposed but not accepted", "SOP class", r["refused_sop_classes"])
    counts("Transfer syntaxes", "transfer syntax", r["transfer_syntaxes"])
    counts("Operations", "operation", r["operations"])
    story.append(Paragraph("Values used", styles["Heading2"]))
    if r["used"]:
        rows = [["attribute", "values (count)"]]
        rows += [[Paragraph(_text(k), small), Paragraph(_text(", ".join(f"{v or '(empty)'} ({n})"
                                                                        for v, n in vals.items())), small)]
                 for k, vals in r["used"].items()]
        story.append(table(rows, [55 * mm, width - 55 * mm]))
    else:
        story.append(Paragraph("(none)", body))
    story.append(Paragraph("Findings", styles["Heading2"]))
    if r["findings"]:
        rows = [["severity", "finding", "count"]]
        rows += [[f["severity"], Paragraph(_text(f["text"]), small), f["count"]] for f in r["findings"]]
        story.append(table(rows, [22 * mm, width - 40 * mm, 18 * mm]))
    else:
        story.append(Paragraph("None.", body))

    made = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %z")

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(20 * mm, 10 * mm, f"printserver acceptance report, {r['calling_ae']}, made {made}")
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"page {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"Acceptance report {r['calling_ae']}",
                            author="printserver", subject="DICOM print modality acceptance report")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
