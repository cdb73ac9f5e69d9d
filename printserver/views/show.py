"""`printserver jobs show ID`: the conversation that produced a job, as text under the job's record."""

from __future__ import annotations

from pathlib import Path

from printserver.views.transcripts import TranscriptStore, text_table


def conversation(spool_root: Path, job_uid: str) -> str:
    """The transcript(s) of the association(s) that produced the job; reads only the transcript files."""
    store = TranscriptStore(spool_root)
    transcripts = [t for h in store.for_job(job_uid) if (t := store.load(h["id"])) is not None]
    if not transcripts:
        return "  transcript: none recorded (written when the association ends)"
    return "\n".join(["  transcript:", *(text_table(t) for t in transcripts)])
