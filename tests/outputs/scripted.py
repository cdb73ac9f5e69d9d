"""A scripted output plug-in for the contract tests: what a new output module looks like, in 40 lines.

Registered in the tests with one line (`REGISTRY["scripted"] = "tests.outputs.scripted"`); its steps follow
`script` ("retry", "wait", "render", "fail", "done"), and its position in the script is its memo, so a
restart resumes where it was and a step already done is not repeated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from printserver.errors import ConfigError
from printserver.outputs.base import DeliveryJob, Done, Failed, Output, Render, Rendition, Retry, Step, Wait

if TYPE_CHECKING:
    from printserver.config import PrinterProfile

FIT = Rendition("fit-pdf", (210.0, 297.0), "test paper")
#: (job stem, output id, step name) of every deliver call, in order (the tests run Delivery in-process)
CALLS: list[tuple[str, str, str]] = []


@dataclass(frozen=True)
class Scripted(Output):
    kind = "scripted"

    script: tuple[str, ...] = ("done",)
    refuse_cancel: str = ""

    @classmethod
    def from_profile(cls, profile: PrinterProfile, key: str) -> list[Self]:
        table = profile.output_tables.get("scripted")
        if table is None:
            return []
        items = table if isinstance(table, list) else [table]
        out = []
        for i, item in enumerate(items):
            unknown = set(item) - {"name", "script"}
            if unknown:
                raise ConfigError(f"{key}.scripted[{i}].{sorted(unknown)[0]}: unknown key")
            out.append(cls(f"scripted:{item.get('name', i)}", f"{key}.scripted[{i}]", tuple(item.get("script", ()))))
        return out

    def describe(self) -> str:
        return f"scripted {' -> '.join(self.script)}"

    def deliver(self, job: DeliveryJob) -> Step:
        n = int(job.memo.get("n", 0))
        what = self.script[min(n, len(self.script) - 1)]
        CALLS.append((job.name, self.id, what))
        memo = {"n": n + 1}
        if what == "retry":
            return Retry(reason=f"peer down (step {n})", info="PRINTER DOWN", memo=memo)
        if what == "wait":
            return Wait(info="QUEUED", after=0.01, memo=memo, detail="handed over")
        if what == "render":
            if not job.rendition(FIT).exists():
                return Render(rendition=FIT)
            return Wait(info="NORMAL", printing=True, after=0.01, memo=memo, notes=("fit: scaled",))
        if what == "fail":
            return Failed(reason="refused by the peer", info="CHECK PRINTER", memo=memo)
        return Done(detail=f"delivered after {n} step(s)", memo=memo)

    def cancel(self, job: DeliveryJob) -> str | None:
        return self.refuse_cancel or None
