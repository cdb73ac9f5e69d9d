"""`printserver jobs [--spool DIR] [list | show ID | retry ID | cancel ID]`: the print jobs in a spool and their state.

`show` prints one job's record, timeline and the transcript of the association that produced it.

Listing only reads the job records. retry and cancel change the spool: with no server running the
command does it itself (holding the spool lock); while a server owns the spool, it asks that server
through a request file and prints its answer (spool/admin.py says what cancel can promise).
"""

from __future__ import annotations

import argparse

from printserver.errors import SpoolError
from printserver.spool import admin
from printserver.spool.records import read_record
from printserver.spool.store import SUFFIX, Spool


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("jobs", help="list print jobs and their state; retry or cancel one")
    p.add_argument("--spool", default="spool", help="spool folder (default ./spool)")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds to wait for a running server's answer to retry/cancel (default 30)")
    p.add_argument("action", nargs="?", default="list", choices=["list", "show", "retry", "cancel"])
    p.add_argument("job", nargs="?", help="job ID (the job file name without .job, or a unique prefix)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    spool = Spool(args.spool)
    if args.action == "list":
        print(f"{'JOB':<44} {'WHERE':<7} {'STATUS':<9} {'INFO':<16} {'PRINTER':<16} {'FROM':<16} FILMS STAGE")
        for where, stem, path in admin.rows(spool):
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
    if args.action == "show":
        from printserver.views.show import show_job

        print(show_job(spool.root, args.job))
        return 0
    try:
        spool.open()
    except SpoolError:  # a server owns the spool: it carries the request out
        ok, message = admin.ask_server(spool, args.action, args.job, args.timeout)
        print(message)
        return 0 if ok else 1
    try:
        if args.action == "retry":
            path = admin.retry(spool, args.job)
            print(f"{path.stem}: queued again; printed at the next server start")
        else:
            path = admin.cancel(spool, args.job)
            print(f"{path.stem}: canceled (kept in {spool.failed})")
    finally:
        spool.close()
    return 0
