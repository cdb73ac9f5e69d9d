"""The generated Conformance Statement against what a live server does with the same configuration."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from pynetdicom import AE

from printserver import config, uids
from printserver.cli import main
from printserver.net.scp import PrintServer
from printserver.scu.race_guard import release

#: Every print SOP class UID printserver names, the retired ones (PS3.4 H, digest §1) and made-up ones.
RETIRED_AND_UNKNOWN = ("1.2.840.10008.5.1.1.24.1", "1.2.840.10008.5.1.1.22", "1.2.840.10008.5.1.1.4.2",
                       "1.2.840.10008.5.1.1.9.1", "1.2.840.10008.5.1.1.18.1", "1.2.826.0.1.3680043.2.1143.99")
KNOWN = tuple(v for k, v in vars(uids).items() if k.isupper() and isinstance(v, str) and v.startswith("1.2.840")
              and "INSTANCE" not in k and "ENDIAN" not in k)

CONFIG = """
[server]
host = "127.0.0.1"
spool_dir = "spool"
workers = 1

[[printer]]
ae_title = "CT_LASER"
printer_name = "CT laser"
pdf_dir = "ct"
film_sizes = {sizes}
default_film_size = "14INX17IN"

[[printer]]
ae_title = "MAMMO"
pdf_dir = "mammo"
allowed_calling_aes = ["MAMMO_MOD"]
film_sizes = ["8INX10IN"]
default_film_size = "8INX10IN"
medium_types = ["MAMMO BLUE FILM"]
default_medium_type = "MAMMO BLUE FILM"
"""


def write_config(folder: Path, sizes: list[str]) -> Path:
    path = folder / "printserver.toml"
    path.write_text(CONFIG.format(sizes="[" + ", ".join(f'"{s}"' for s in sizes) + "]"), encoding="utf-8")
    return path


def generate(cfg: Path, out: Path) -> str:
    assert main(["conformance", "--config", str(cfg), "-o", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def table_after(text: str, heading: str) -> list[list[str]]:
    """Rows of the first Markdown table after `heading` (cells unescaped)."""
    rest = text[text.index(heading):]
    rows = []
    for line in rest.splitlines():
        if line.startswith("|"):
            cells = [c.strip().replace("\\\\", "\\") for c in line.strip("|").split("|")]
            if not set(cells[0]) <= {"-"}:
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header


def accepted_contexts(port: int, called: str, calling: str) -> set[str]:
    ae = AE(ae_title=calling)
    ae.acse_timeout = 10
    for uid in (*KNOWN, *RETIRED_AND_UNKNOWN):
        ae.add_requested_context(uid)
    assoc = ae.associate("127.0.0.1", port, ae_title=called)
    try:
        assert assoc.is_established
        return {str(cx.abstract_syntax) for cx in assoc.accepted_contexts}
    finally:
        release(assoc)
        ae.shutdown()


def test_statement_matches_a_live_association_and_follows_the_config(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, ["14INX17IN", "11INX14IN", "A4"])
    text = generate(cfg, tmp_path / "conformance.md")
    scp_classes = {row[1] for row in table_after(text, "### 2.1 SOP classes") if row[3] == "Yes"}
    assert uids.PRINTER_CONFIGURATION_RETRIEVAL in scp_classes

    server = PrintServer(replace(config.load(cfg), port=0))
    server.start()
    try:
        for printer, caller in (("CT_LASER", "CT_MOD"), ("MAMMO", "MAMMO_MOD")):
            assert accepted_contexts(server.port, printer, caller) == scp_classes
    finally:
        server.stop()

    entities = table_after(text, "### 1.1 Application entities")
    assert [r[0] for r in entities if r[1].startswith("SCP")] == ["CT_LASER", "MAMMO"]
    assert all(r[2] == "127.0.0.1:11112" for r in entities if r[1].startswith("SCP"))
    callers = {r[0]: r[1] for r in table_after(text, "| Called AE title | Calling AE titles accepted")}
    assert callers == {"CT_LASER": "any", "MAMMO": "MAMMO_MOD"}
    ct = text[text.index("Printer CT_LASER"):text.index("Printer MAMMO")]
    assert [r[0] for r in table_after(ct, "Film Size ID:")] == ["14INX17IN", "11INX14IN", "A4"]
    mammo = text[text.index("Printer MAMMO"):]
    assert [r[0] for r in table_after(mammo, "Film Size ID:")] == ["8INX10IN"]
    values = {r[0]: r[1] for r in table_after(mammo, "| Attribute | Supported values")}
    assert values["Medium Type"] == "MAMMO BLUE FILM"
    formats = [r[0] for r in table_after(ct, "Image Display Format:")]
    assert {"SLIDE", "SUPERSLIDE", "CUSTOM\\1", "CUSTOM\\2"} <= set(formats)

    # the admin takes film sizes away: the regenerated statement says so
    cfg = write_config(tmp_path, ["14INX17IN"])
    text = generate(cfg, tmp_path / "conformance.md")
    ct = text[text.index("Printer CT_LASER"):text.index("Printer MAMMO")]
    assert [r[0] for r in table_after(ct, "Film Size ID:")] == ["14INX17IN"]
    assert not re.search(r"\b11INX14IN\b", text)


def test_conformance_reports_config_errors_by_key(tmp_path: Path, capsys: object) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[printer]]\nfilm_sizes = ["HUGE"]\n', encoding="utf-8")
    assert main(["conformance", "--config", str(bad)]) == 2
    assert "printer[0].film_sizes" in capsys.readouterr().err  # type: ignore[attr-defined]
