"""The audit log of console actions: who, when, what, and the answer. One JSON line each, owner-only."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from printserver.views.previews import console_dir, private_dir

_lock = threading.Lock()


def audit_path(spool_root: Path) -> Path:
    return console_dir(spool_root) / "audit.log"


def record(spool_root: Path, who: str, action: str, job: str, ok: bool, message: str) -> dict[str, Any]:
    entry = {"time": datetime.now(UTC).astimezone().isoformat(timespec="seconds"), "who": who,
             "action": action, "job": job, "ok": ok, "message": message}
    path = audit_path(spool_root)
    private_dir(path.parent)  # the console folder
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
    return entry


def entries(spool_root: Path, limit: int = 200) -> list[dict[str, Any]]:
    """The newest `limit` entries, newest first."""
    try:
        lines = audit_path(spool_root).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in reversed(lines[-limit:]):
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out
