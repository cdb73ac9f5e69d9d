"""How many associations are served at once: in total, per calling AE title, per source address.

pynetdicom's own `maximum_associations` counts every acceptor thread alive, knows neither calling
AE titles nor addresses, and rejects without saying why in the log. These books are kept at
EVT_REQUESTED (after the AE titles were checked) and at the association's end; at a limit the
request gets A-ASSOCIATE-RJ rejected-transient, service-provider (presentation), local-limit-exceeded
(PS3.8 7.1.1.9), which modalities read as "busy, retry later".
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

REJECTED_TRANSIENT = 0x02
SOURCE_SERVICE_PROVIDER_PRESENTATION = 0x03
REASON_LOCAL_LIMIT_EXCEEDED = 0x02


@dataclass(frozen=True)
class AssociationLimits:
    total: int = 32
    per_calling_ae: int = 16
    per_address: int = 16


class Occupancy:
    """The associations being served now, with the limits they are held to (thread-safe)."""

    def __init__(self, limits: AssociationLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._held: dict[Any, tuple[str, str]] = {}  # association -> (calling AE, address)
        self._by_ae: Counter[str] = Counter()
        self._by_address: Counter[str] = Counter()

    def enter(self, assoc: Any, calling_ae: str, address: str) -> str | None:
        """Count `assoc` in, or say which limit it would exceed (then it is not counted)."""
        with self._lock:
            if assoc in self._held:
                return None
            if len(self._held) >= self.limits.total:
                return f"{len(self._held)} associations already (server.max_associations)"
            if self._by_ae[calling_ae] >= self.limits.per_calling_ae:
                return f"{self._by_ae[calling_ae]} associations from calling AE '{calling_ae}' already " \
                       "(server.max_associations_per_calling_ae)"
            if self._by_address[address] >= self.limits.per_address:
                return f"{self._by_address[address]} associations from {address} already " \
                       "(server.max_associations_per_address)"
            self._held[assoc] = (calling_ae, address)
            self._by_ae[calling_ae] += 1
            self._by_address[address] += 1
            return None

    def leave(self, assoc: Any) -> None:
        """The association ended (released, aborted, connection lost); idempotent."""
        with self._lock:
            held = self._held.pop(assoc, None)
            if held is None:
                return
            calling_ae, address = held
            self._by_ae[calling_ae] -= 1
            self._by_address[address] -= 1
            if self._by_ae[calling_ae] <= 0:
                del self._by_ae[calling_ae]
            if self._by_address[address] <= 0:
                del self._by_address[address]

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._held)
