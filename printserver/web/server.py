"""What `printserver serve` adds for the console: the transcript recorder and the web server, in-process.

The recorder always runs (the CLI's `jobs show` reads its transcripts too). The web server is uvicorn
serving the Starlette app in a thread of its own, on a socket bound here, so a bad address or a port
in use fails `serve` at once, and port 0 gives a free port (tests). It reads only the spool and the
console's index, so it cannot slow an association down beyond sharing the CPU.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from printserver.config import ServerConfig, parse_web_address
from printserver.errors import ConfigError
from printserver.net.transcript import TranscriptRecorder
from printserver.views.transcripts import transcripts_dir

if TYPE_CHECKING:
    from printserver.net.scp import PrintServer

log = logging.getLogger(__name__)


class Console:
    def __init__(self, config: ServerConfig, server: PrintServer, web: str | None = None) -> None:
        self.config = config
        self.server = server
        self.web = web
        self.spool_root = Path(config.spool_dir)
        self.recorder = TranscriptRecorder(transcripts_dir(self.spool_root), config,
                                           keep_days=config.transcript_keep_days)
        server.book.listen(self.recorder.on_job)
        self._uvicorn: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.state: Any = None
        if web:
            host, _ = parse_web_address(web)
            if not _loopback(host) and not (config.web_token or config.web_users):
                raise ConfigError(f"server.web_user / server.web_token: the console would listen on {host}, not "
                                  "loopback: configure users ([[server.web_user]], hashes from `printserver "
                                  "web-passwd`) or a token (or bind it to 127.0.0.1)")

    def evt_handlers(self) -> list[Any]:
        return self.recorder.evt_handlers()

    def start(self) -> None:
        self.recorder.start()
        if self.web:
            self._start_web(self.web)

    def _start_web(self, address: str) -> None:
        import uvicorn

        from printserver.spool import admin
        from printserver.web.app import ConsoleState, create_app
        from printserver.web.auth import Auth

        host, port = parse_web_address(address)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"server.web: cannot listen on {host}:{port} ({exc.strerror})") from None
        sock.listen(64)
        self._socket = sock
        spool = self.server.spool

        def ask(action: str, job_id: str, printer: str, who: str) -> tuple[bool, str]:
            return admin.ask_server(spool, action, job_id, timeout=30, printer=printer, who=who)

        auth = Auth(self.config.web_token, users=self.config.web_users)
        self.state = ConsoleState(self.spool_root, self.config, auth, ask,
                                  health=self.server.handlers.health)
        config = uvicorn.Config(create_app(self.state), log_level="warning", access_log=False, lifespan="off")
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="console-web", daemon=True)
        self._thread.start()
        log.info("console on %s", self.url)

    def _serve(self) -> None:
        assert self._uvicorn is not None and self._socket is not None
        asyncio.run(self._uvicorn.serve(sockets=[self._socket]))

    @property
    def url(self) -> str:
        if self._socket is None:
            return ""
        host, port = self._socket.getsockname()[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def stop(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._uvicorn = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self.state is not None:
            self.state.index.close()
        self.recorder.stop()


def _loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
