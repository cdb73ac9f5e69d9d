"""Outputs by name, imported lazily: a missing optional dependency breaks only the output that needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from printserver import config
from printserver.errors import ConfigError
from printserver.outputs import registry
from printserver.outputs.plan import check_outputs, outputs_of

NO_PYCUPS = "import sys; sys.modules['cups'] = None\n"  # `import cups` now raises ImportError, as without pycups


def python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)


def test_only_the_outputs_a_printer_uses_are_imported() -> None:
    out = python("import sys\nfrom printserver import config, conformance\n"
                 "cfg = config.load(None)\nconformance.statement(cfg)\n"
                 "print(sorted(m for m in sys.modules if m.startswith('printserver.outputs.') or m == 'cups'))")
    assert out.returncode == 0, out.stderr
    loaded = eval(out.stdout)
    assert "printserver.outputs.pdf" in loaded and "printserver.outputs.cups" not in loaded and "cups" not in loaded


def test_an_output_whose_module_cannot_be_imported_fails_alone(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    (tmp_path / "needs_missing_dep.py").write_text("import printserver_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.REGISTRY, "fancy", "needs_missing_dep")
    with pytest.raises(registry.OutputUnavailable, match=r"^printer\[0\]\.fancy: output 'fancy' cannot be loaded "
                                                         r"\(No module named 'printserver_no_such_dependency'\)"):
        config.from_dict({"printer": [{"fancy": {"host": "x"}}]})
    plain = config.from_dict({"printer": [{"ae_title": "A"}]})  # printers without it are unaffected
    assert [o.kind for o in outputs_of(plain.printers[0])] == ["pdf"]
    with pytest.raises(ConfigError, match=r"^printer\[0\]\.nope: unknown output 'nope'"):
        registry.output_class("nope", "printer[0].nope")


def test_cups_without_pycups_is_refused_at_start_with_the_key_and_the_fix(tmp_path: Path) -> None:
    code = NO_PYCUPS + ("from printserver import config\nfrom printserver.outputs.plan import check_outputs\n"
                        "cfg = config.from_dict({'printer': [{'pdf_dir': '', 'cups_queue': 'film'}]})\n"
                        "check_outputs(cfg)\n")
    out = python(code)
    assert out.returncode == 1 and "printer[0].cups_queue: pycups is not installed" in out.stderr
    assert "pip install 'printserver[cups]'" in out.stderr
    cli = python(NO_PYCUPS + "from printserver.cli import main\nsys.exit(main(sys.argv[1:]))",
                 "serve", "--host", "127.0.0.1", "--port", "1", "--spool", str(tmp_path / "spool"),
                 "--output", str(tmp_path / "films"), "--cups", "film")
    assert cli.returncode == 2, cli.stderr
    assert cli.stderr.startswith("printserver: printer[0].cups_queue: pycups is not installed")
    assert not (tmp_path / "spool").exists()  # refused before it took any job


def test_serve_refuses_a_pdf_folder_it_cannot_create(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    cfg = config.from_dict({"printer": [{"pdf_dir": str(tmp_path / "file" / "films")}]})
    with pytest.raises(ConfigError, match=r"^printer\[0\]\.pdf_dir: output folder .* is not a folder"):
        check_outputs(cfg)
    check_outputs(config.from_dict({"printer": [{"pdf_dir": str(tmp_path / "films")}]}))  # a creatable one is fine
