"""`printserver jobs [--spool DIR] [list | retry ID | cancel ID]`: the print jobs in a spool and their state.

Listing works while the server runs (it only reads the job records). retry and cancel change the
spool, so they need the server stopped (the spool lock says so): retry moves a failed job back into
the queue with a fresh record, cancel moves a waiting job to failed/ with the reason "canceled".
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from printserver.errors import SpoolError
from printserver.spool.records import FAILURE, read_record, write_record
from printserver.spool.store import SUFFIX, Spool


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("jobs", help="list print jobs and their state; retry or cancel one")
    p.add_argument("--spool", default="spool", help="spool folder (default ./spool)")
    p.add_argument("action", nargs="?", default="list", choices=["list", "retry", "cancel"])
    p.add_argument("job", nargs="?", help="job ID (the job file name without .job, or a unique prefix)")
    p.set_defaults(func=run)


def _rows(spool: Spool) -> list[tuple[str, str, Path]]:
    rows = []
    for where, folder in (("queued", spool.jobs), ("failed", spool.failed)):
        rows += [(where, p.stem, p) for p in sorted(folder.glob(f"*{SUFFIX}"))]
    rows += [("done", p.name.removesuffix(".state.json"), p) for p in sorted(spool.done.glob("*.state.json"))]
    return rows


def _find(spool: Spool, job_id: str, where: str) -> Path:
    hits = [p for w, stem, p in _rows(spool) if w == where and stem.startswith(job_id)]
    if len(hits) != 1:
        raise SpoolError(f"job {job_id}: {'no' if not hits else 'more than one'} {where} job matches")
    return hits[0]


def run(args: argparse.Namespace) -> int:
    spool = Spool(args.spool)
    if args.action == "list":
        print(f"{'JOB':<44} {'WHERE':<7} {'STATUS':<9} {'INFO':<16} {'PRINTER':<16} {'FROM':<16} FILMS STAGE")
        for where, stem, path in _rows(spool):
            rec = read_record(path) if where != "done" else read_record(path.with_name(stem + SUFFIX))
            if rec is None:
                print(f"{stem:<44} {where:<7} (no record)")
                continue
            print(f"{stem:<44} {where:<7} {rec.execution_status:<9} {rec.execution_status_info:<16} "
                  f"{rec.printer:<16} {rec.originator:<16} {rec.films:>5} {rec.stage}"
                  + (f" (CUPS job {rec.cups_job_id})" if rec.cups_job_id else "")
                  + (f" - {rec.history[-1]}" if rec.history else ""))
        return 0
    if not args.job:
        raise SpoolError(f"jobs {args.action}: name the job ID")
    spool.open()  # the lock: refuses while a server owns the spool
    try:
        if args.action == "retry":
            path = _find(spool, args.job, "failed")
            rec = read_record(path)
            target = spool.jobs / path.name
            for side in path.parent.glob(f"{path.stem}.*"):
                if side != path and not side.name.endswith(".reason.txt"):
                    os.replace(side, spool.jobs / side.name)
            os.replace(path, target)
            if rec is not None:
                write_record(target, replace(rec, execution_status="PENDING", execution_status_info="QUEUED",
                                             stage="queued", attempts=0, first_failure=None, cups_job_id=None))
            print(f"{path.stem}: queued again; printed at the next server start")
        else:
            path = _find(spool, args.job, "queued")
            rec = read_record(path)
            if rec is not None:
                write_record(path, replace(rec, execution_status=FAILURE, execution_status_info="NORMAL",
                                           stage="canceled", history=[*rec.history, "canceled by the admin"]))
            spool.fail(path, "canceled by the admin (printserver jobs cancel)")
            print(f"{path.stem}: canceled (kept in {spool.failed})")
    finally:
        spool.close()
    return 0
