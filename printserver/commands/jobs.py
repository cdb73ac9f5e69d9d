"""`printserver jobs [--spool DIR] [list | show ID | retry ID | cancel ID | reprint ID [--printer AE]]`.

list and show only read the job records (state per output, the timeline); show adds the transcript of
the association that produced the job (printserver/views/show.py). retry, cancel and reprint change the
spool: with no server running the command does it itself (holding the spool lock); while a server owns the
spool, it asks that server through a request file and prints its answer (spool/admin.py says what cancel
can promise). reprint spools a new job with the films of a kept job (spool/reprint.py); with no server it
needs the server's --config to know the target printer's outputs, and prints at the next start. Each of
the three is written to the console's audit log (who: the OS user), as the console's buttons are.
"""

from __future__ import annotations

import argparse
import getpass

from printserver.errors import SpoolError
from printserver.spool import admin
from printserver.spool.records import JobRecord, read_record
from printserver.spool.store import Spool


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("jobs", help="list print jobs and their state; show, retry or cancel one")
    p.add_argument("--spool", default="spool", help="spool folder (default ./spool)")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds to wait for a running server's answer to retry/cancel (default 30)")
    p.add_argument("action", nargs="?", default="list", choices=["list", "show", "retry", "cancel", "reprint"])
    p.add_argument("job", nargs="?", help="job ID (the job file name without .job, or a unique prefix)")
    p.add_argument("--printer", default="", metavar="AE",
                   help="reprint: the printer (called AE title) to print on (default: the job's own)")
    p.add_argument("--config", help="reprint with no server running: the server's TOML configuration")
    p.set_defaults(func=run)


def outputs_summary(rec: JobRecord) -> str:
    """pdf:done cups:retrying(PRINTER OFFLINE)"""
    parts = []
    for oid, out in rec.outputs.items():
        extra = out.info if out.state in ("retrying", "sent", "failed") and out.info not in ("", "NORMAL") else ""
        parts.append(f"{oid}:{out.state}" + (f"({extra})" if extra else ""))
    return " ".join(parts)


def show(rec: JobRecord, where: str, stem: str) -> str:
    lines = [f"job {stem} ({where})", f"  Print Job {rec.job_uid}: {rec.execution_status} / "
             f"{rec.execution_status_info}, state {rec.state}" + (f" - {rec.reason}" if rec.reason else ""),
             f"  printer {rec.printer} ({rec.printer_name}), from {rec.originator}, created {rec.created}, "
             f"{rec.films} film(s) x {rec.copies}, priority {rec.print_priority}"
             + (f", label {rec.film_session_label!r}" if rec.film_session_label else ""), "  outputs:"]
    for oid, out in rec.outputs.items():
        memo = " ".join(f"{k}={v}" for k, v in out.memo.items())
        lines.append(f"    {oid:<12} {out.kind:<6} {out.state:<10} {out.info:<16}"
                     + (f" attempts {out.attempts}" if out.attempts else "") + (f" {memo}" if memo else "")
                     + (f" - {out.reason}" if out.reason else ""))
    lines += [f"  warning: {w}" for w in rec.warnings]
    lines.append("  timeline:")
    lines += [f"    {t['at']:<24} {(t['output'] + ' ') if t['output'] else ''}{t['event']}"
              + (f": {t['detail']}" if t["detail"] else "") for t in rec.timeline]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    spool = Spool(args.spool)
    if args.action == "list":
        print(f"{'JOB':<44} {'WHERE':<7} {'STATUS':<9} {'INFO':<16} {'PRINTER':<16} {'FROM':<16} FILMS STATE")
        for where, stem, path in admin.rows(spool):
            rec = read_record(path)
            if rec is None:
                print(f"{stem:<44} {where:<7} (no record)")
                continue
            last = rec.timeline[-1] if rec.timeline else None
            print(f"{stem:<44} {where:<7} {rec.execution_status:<9} {rec.execution_status_info:<16} "
                  f"{rec.printer:<16} {rec.originator:<16} {rec.films:>5} {rec.state} [{outputs_summary(rec)}]"
                  + (f" - {last['detail']}" if last and last["detail"] else ""))
        return 0
    if not args.job:
        raise SpoolError(f"jobs {args.action}: name the job ID")
    if args.action == "show":
        path = admin.find(spool, args.job)
        where = next(w for w, _, p in admin.rows(spool) if p == path)
        rec = read_record(path)
        if rec is None:
            raise SpoolError(f"job {path.stem}: no record")
        print(show(rec, where, path.stem))
        from printserver.views.show import conversation

        print(conversation(spool.root, rec.job_uid))
        return 0
    from printserver.views import audit

    who = f"{getpass.getuser()} (printserver jobs)"
    what = f"{args.action} on {args.printer}" if args.action == "reprint" and args.printer else args.action
    try:
        ok, message = change(spool, args, who)
    except SpoolError as exc:
        audit.record(spool.root, who, what, args.job, False, str(exc))
        raise
    audit.record(spool.root, who, what, args.job, ok, message)
    print(message)
    return 0 if ok else 1


def change(spool: Spool, args: argparse.Namespace, who: str) -> tuple[bool, str]:
    """retry / cancel / reprint: by the server owning the spool, else here."""
    try:
        spool.open()
    except SpoolError:  # a server owns the spool: it carries the request out
        return admin.ask_server(spool, args.action, args.job, args.timeout, printer=args.printer, who=who)
    try:
        if args.action == "retry":
            path = admin.retry(spool, args.job)
            return True, f"{path.stem}: queued again; printed at the next server start"
        if args.action == "cancel":
            path = admin.cancel(spool, args.job)
            return True, f"{path.stem}: canceled (kept in {spool.failed})"
        if not args.config:
            raise SpoolError("jobs reprint: no server owns this spool; give --config (the server's configuration, "
                             "for the printer's outputs) and it prints at the next start")
        from printserver import config
        from printserver.spool.records import JobBook
        from printserver.spool.reprint import reprint

        path = reprint(spool, JobBook(), config.load(args.config), args.job, args.printer, who)
        return True, f"{path.stem}: re-print of {args.job}; printed at the next server start"
    finally:
        spool.close()
