"""Configuration: the embedded default, the sample file, and errors that name the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from printserver import config
from printserver.errors import ConfigError

SAMPLE = Path(__file__).parent.parent / "samples" / "printserver.toml"


def test_embedded_default() -> None:
    cfg = config.load(None)
    assert (cfg.port, cfg.printers[0].ae_title, cfg.printers[0].pdf_dir) == (11112, "PRINTSCP", "films")


def test_sample_config_loads_and_resolves_folders_next_to_it() -> None:
    cfg = config.load(SAMPLE)
    assert cfg.printers[0].ae_title == "PRINTSCP"
    assert Path(cfg.printers[0].pdf_dir).is_absolute() and Path(cfg.spool_dir).is_absolute()


@pytest.mark.parametrize(("data", "key"), [
    ({"server": {"port": "x"}}, "server.port"),
    ({"server": {"prot": 1}}, "server.prot"),
    ({"server": {"port": 70000}}, "server.port"),
    ({"printer": [{"ae_title": "WAY_TOO_LONG_AE_TITLE"}]}, "printer[0].ae_title"),
    ({"printer": [{"film_sizes": ["14INX17IN", "HUGE"]}]}, "printer[0].film_sizes"),
    ({"printer": [{"default_magnification_type": "SINC"}]}, "printer[0].default_magnification_type"),
    ({"printer": [{"max_density_range": [400, 100]}]}, "printer[0].max_density_range"),
    ({"printer": [{"resolution_dpi": {"STANDARD": 5}}]}, "printer[0].resolution_dpi.STANDARD"),
    ({"printer": [{"smoothing_kernels": {"SHARP": "SINC"}}]}, "printer[0].smoothing_kernels.SHARP"),
    ({"printer": [{"configuration_curves": {"CS009": 9}}]}, "printer[0].configuration_curves.CS009"),
    ({"printer": [{"value_policy": "sloppy"}]}, "printer[0].value_policy"),
    ({"printer": [{"max_held_image_mb": 0}]}, "printer[0].max_held_image_mb"),
    ({"server": {"max_held_image_mb": 0}}, "server.max_held_image_mb"),
    ({"printer": [{"ae_title": "A"}, {"ae_title": "A"}]}, "printer.ae_title"),
    ({"printers": []}, "printers"),
])
def test_errors_name_the_key(data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as exc:
        config.from_dict(data)
    assert str(exc.value).startswith(key)


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\nport = 1\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        config.load(bad)


def test_cli_reports_config_errors_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text("[server]\nport = 0\n")
    out = subprocess.run([sys.executable, "-m", "printserver", "serve", "--config", str(bad)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "server.port" in out.stderr


def test_cli_help_lists_the_flags() -> None:
    out = subprocess.run([sys.executable, "-m", "printserver", "serve", "--help"], capture_output=True, text=True,
                         timeout=60)
    for flag in ("--config", "--port", "--ae-title", "--output", "--host", "--debug", "-v"):
        assert flag in out.stdout
