"""printserver's own Implementation Class UID and Version Name on the wire (SCP and SCU), and the network
and security settings where an admin reads them: the conformance statement and check-config."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from pynetdicom import AE, evt

from printserver import __version__, config, uids
from printserver.commands.check_config import describe
from printserver.conformance import statement
from printserver.scu.race_guard import release
from printserver.scu.transport import NetworkTransport
from tests.printscu import META
from tests.tlscerts import make_certificates


def test_the_scp_answers_with_printservers_identity(scp) -> None:
    ae = AE(ae_title="PROBE")
    ae.add_requested_context(META)
    assoc = ae.associate("127.0.0.1", scp.port, ae_title="PRINTSCP")
    try:
        assert assoc.is_established
        assert assoc.acceptor.implementation_class_uid == uids.IMPLEMENTATION_CLASS_UID
        assert assoc.acceptor.implementation_version_name == "PRINTSERVER_010" == \
            uids.implementation_version_name(__version__)
    finally:
        release(assoc)
        ae.shutdown()


def test_the_scu_requests_with_printservers_identity() -> None:
    seen: dict[str, Any] = {}
    ae = AE(ae_title="PEER")
    for cx in (META, uids.BASIC_COLOR_PRINT_MANAGEMENT_META):
        ae.add_supported_context(cx)

    def on_requested(event: Any) -> None:
        seen["uid"] = event.assoc.requestor.implementation_class_uid
        seen["name"] = event.assoc.requestor.implementation_version_name

    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_REQUESTED, on_requested)])
    try:
        transport = NetworkTransport("127.0.0.1", server.server_address[1], "PEER", timeout=10)
        transport.release()
    finally:
        server.shutdown()
    assert seen == {"uid": uids.IMPLEMENTATION_CLASS_UID, "name": uids.implementation_version_name(__version__)}


def test_uid_and_name_are_valid() -> None:
    assert uids.is_valid_uid(uids.IMPLEMENTATION_CLASS_UID) and uids.IMPLEMENTATION_CLASS_UID.startswith("2.25.")
    assert len(uids.implementation_version_name("12.34.56")) <= 16


def test_statement_and_check_config_show_identity_limits_and_tls(tmp_path: Path) -> None:
    certs = make_certificates(tmp_path / "certs")
    base = config.load(None)
    cfg = config.validated(replace(base, tls_cert=str(certs.server_cert), tls_key=str(certs.server_key),
                                   tls_ca=str(certs.ca), tls_require_client_cert=True, max_associations=7,
                                   printers=(replace(base.printers[0], tls_only=True),)))
    text = statement(cfg)
    assert uids.IMPLEMENTATION_CLASS_UID in text and "PRINTSERVER_010" in text and "pynetdicom" not in text
    assert "2 (transient)" in text and "2 (local limit exceeded)" in text and "At most 7 associations" in text
    assert "### 2.8 Security" in text and "port 2762" in text and "Client certificates: required" in text
    assert f"{cfg.host}:2762 (TLS)" in text  # the TLS-only printer listens there alone
    summary = describe(cfg)
    assert "DICOM TLS on 0.0.0.0:2762 (client certificates required)" in summary
    assert "limits: 7 associations" in summary and "over TLS only" in summary
