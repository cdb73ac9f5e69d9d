"""`printserver jobs show ID`: one job as text (record, timeline, the conversation that produced it)."""

from __future__ import annotations

from pathlib import Path

from printserver.errors import SpoolError
from printserver.views.jobs import JobIndex
from printserver.views.transcripts import TranscriptStore, text_table


def show_job(spool_root: Path, job_id: str) -> str:
    """Works with or without a running server: it reads the records and transcripts, an in-memory index."""
    index = JobIndex(spool_root, db_path=":memory:")
    try:
        index.refresh(force=True)
        matches = index.list_ids(job_id)
        if len(matches) != 1:
            raise SpoolError(f"job {job_id}: {'no' if not matches else 'more than one'} job matches")
        job = index.get(matches[0])
    finally:
        index.close()
    assert job is not None
    lines = [f"Job {job['id']} ({job['location']})",
             f"  Print Job UID   {job['job_uid']}",
             f"  accepted        {job['created']} from {job['calling_ae']} for {job['printer']}",
             f"  films           {job['films']} x {job['film_size'] or '?'} {job['layout']} {job['orientation']}, "
             f"{job['copies']} copies",
             f"  state           {job['state']} (Execution Status {job['status']} / {job['status_info']})"]
    lines += [f"  output {o['output']:<8} {o['state']} {o['detail']}" for o in job["outputs"]]
    lines += ["", "Timeline:"] + [f"  {e['time']:<19} {e['what']}" for e in job["timeline"]]
    store = TranscriptStore(spool_root)
    transcripts = [t for h in store.for_job(job["job_uid"]) if (t := store.load(h["id"])) is not None]
    lines += ["", "Transcript:" if transcripts else "Transcript: none recorded"]
    lines += [text_table(t) for t in transcripts]
    return "\n".join(lines)
