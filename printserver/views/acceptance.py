"""Modality acceptance report: what one calling AE uses, what it got wrong, how many prints succeeded.

What a QA lead files when a new modality is installed, made from its recorded transcripts (so it says
what was sent, not what the modality's conformance statement promises). A page and a Markdown file.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from printserver.status import Category, category
from printserver.views.transcripts import findings

#: Attributes whose values are tallied, by the SOP class (short name) whose requests carry them.
USED_ATTRIBUTES = ("ImageDisplayFormat", "FilmSizeID", "FilmOrientation", "MagnificationType", "SmoothingType",
                   "MediumType", "FilmDestination", "NumberOfCopies", "PrintPriority", "Polarity",
                   "BitsStored", "PhotometricInterpretation", "PresentationLUTShape", "AnnotationDisplayFormatID",
                   "RequestedImageSize", "ConfigurationInformation", "MinDensity", "MaxDensity", "Trim",
                   "BorderDensity", "EmptyImageDensity", "RequestedResolutionID")


def report(calling_ae: str, transcripts: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes: Counter[str] = Counter()
    classes: Counter[str] = Counter()
    refused_classes: Counter[str] = Counter()
    syntaxes: Counter[str] = Counter()
    operations: Counter[str] = Counter()
    used: dict[str, Counter[str]] = {}
    problems: Counter[tuple[str, str]] = Counter()
    prints = failed_prints = jobs = 0
    called: Counter[str] = Counter()
    implementations: Counter[str] = Counter()
    first = last = ""
    for t in transcripts:
        outcomes[t.get("outcome", "").split(":")[0] or "unknown"] += 1
        called[t.get("called_ae", "")] += 1
        implementations[t.get("implementation", "")] += 1
        first = min(first or t["started"], t["started"])
        last = max(last, t["started"])
        jobs += len(t.get("job_uids", []))
        accepted = {cx["id"] for cx in t.get("accepted", [])}
        for cx in t.get("proposed", []):
            (classes if cx["id"] in accepted else refused_classes)[cx["name"]] += 1
        for cx in t.get("accepted", []):
            syntaxes.update(cx["transfer_syntaxes"][:1])
        for msg in t.get("messages", []):
            kind = msg.get("message", "")
            if msg["dir"] == "in" and kind.endswith("-RQ"):
                operations[f"{kind[:-3]} {msg.get('sop_class_name', '')}".strip()] += 1
                for _depth, _tag, keyword, _vr, value in msg.get("data", []):
                    if keyword in USED_ATTRIBUTES and value != "":
                        used.setdefault(keyword, Counter())[value] += 1
            if msg["dir"] == "out" and kind == "N-ACTION-RSP":
                if category(int(msg.get("status", 0))) is Category.FAILURE:
                    failed_prints += 1
                else:
                    prints += 1
        for f in findings(t):
            problems[(f.severity, f.text)] += 1
    return {
        "calling_ae": calling_ae, "associations": len(transcripts), "first": first, "last": last,
        "outcomes": dict(outcomes), "called_aes": dict(called), "implementations": dict(implementations),
        "sop_classes": dict(classes), "refused_sop_classes": dict(refused_classes),
        "transfer_syntaxes": dict(syntaxes), "operations": dict(operations),
        "used": {k: dict(v) for k, v in sorted(used.items())},
        "prints": prints, "failed_prints": failed_prints, "jobs": jobs,
        "findings": [{"severity": s, "text": text, "count": n} for (s, text), n in problems.most_common()],
    }


def _table(counts: dict[str, int], head: str) -> list[str]:
    if not counts:
        return ["(none)", ""]
    return [f"| {head} | count |", "|---|---:|", *(f"| {k or '(empty)'} | {v} |" for k, v in counts.items()), ""]


def markdown(r: dict[str, Any]) -> str:
    lines = [f"# Modality acceptance report: {r['calling_ae']}", "",
             f"Associations recorded: {r['associations']} ({r['first']} .. {r['last']}); "
             f"prints answered Success: {r['prints']}, refused: {r['failed_prints']}; jobs: {r['jobs']}.", "",
             "## Printers called", "", *_table(r["called_aes"], "called AE"),
             "## Implementation", "", *_table(r["implementations"], "implementation class UID / version"),
             "## Association outcomes", "", *_table(r["outcomes"], "outcome"),
             "## SOP classes accepted", "", *_table(r["sop_classes"], "SOP class"),
             "## SOP classes proposed but not accepted", "", *_table(r["refused_sop_classes"], "SOP class"),
             "## Transfer syntaxes", "", *_table(r["transfer_syntaxes"], "transfer syntax"),
             "## Operations", "", *_table(r["operations"], "operation"),
             "## Values used", ""]
    for keyword, values in r["used"].items():
        lines.append(f"- **{keyword}**: " + ", ".join(f"{v or '(empty)'} ({n})" for v, n in values.items()))
    lines += ["", "## Findings", ""]
    lines += [f"- [{f['severity']}] {f['text']} (x{f['count']})" for f in r["findings"]] or ["None."]
    return "\n".join(lines) + "\n"
