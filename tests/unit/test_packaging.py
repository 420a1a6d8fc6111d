"""pyproject.toml declares the dependencies once; the requirements files `make` installs must say the same."""

import os
import re
import tomllib
from pathlib import Path

import pytest

from albertviz import cli
from albertviz.core.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$")


def parse(lines: list[str]) -> dict[str, str]:
    """{normalised name: specifier without spaces}, comments and blank lines dropped (PEP 503 names)."""
    out = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, spec = REQUIREMENT.match(line).groups()
        key = re.sub(r"[-_.]+", "-", name).lower()
        assert key not in out, f"{name} is listed twice"
        out[key] = spec.replace(" ", "")
    return out


def requirements(*names: str) -> dict[str, str]:
    lines = [line for n in names for line in (ROOT / n).read_text().splitlines()]
    return parse(lines)


def test_runtime_requirements_match_pyproject_dependencies():
    declared = parse(PYPROJECT["project"]["dependencies"])
    assert declared == requirements("requirements.txt", "requirements-nodeps.txt")


def test_dev_requirements_match_pyproject_dev_extra():
    assert parse(PYPROJECT["project"]["optional-dependencies"]["dev"]) == requirements("requirements-dev.txt")


def test_torch_stays_pinned_to_the_local_cpu_wheel():
    assert parse(PYPROJECT["project"]["dependencies"])["torch"] == "==2.13.0"


def test_imported_third_party_packages_are_declared():
    """tqdm arrives with transformers today, but the zoo build imports it itself, so it is declared."""
    assert "tqdm" in parse(PYPROJECT["project"]["dependencies"])
    assert "from tqdm import" in (ROOT / "albertviz" / "zoo" / "build.py").read_text()


def test_only_the_library_and_the_app_are_packaged():
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    assert find["include"] == ["albertviz*", "albertviz_app*"]
    assert PYPROJECT["project"]["scripts"] == {"albertviz": "albertviz.cli:main"}


def test_every_shipped_data_file_is_package_data():
    """Each non-Python file the library and app read is matched by a package-data glob."""
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    shipped = [p for top in ("albertviz", "albertviz_app") for p in (ROOT / top).rglob("*")
               if p.is_file() and p.suffix not in (".py", ".pyc") and not p.name.startswith(".")]
    shipped += list((ROOT / "albertviz_app" / "views").glob("*.py"))
    assert shipped
    for path in shipped:
        rel = path.relative_to(ROOT)
        matched = [pkg for pkg, globs in data.items() for g in globs
                   if rel.is_relative_to(Path(*pkg.split("."))) and rel.relative_to(Path(*pkg.split("."))).match(g)]
        assert matched, f"{rel} is not package data: an installed copy would lack it"


def serve_args(*argv: str):
    args, extra = cli.parser().parse_known_args(["serve", *argv])
    return args, extra


def test_serve_runs_a_launcher_outside_the_package_with_every_packaged_setting(tmp_path):
    cmd, env = cli.serve_plan(*serve_args("--port", "8600", "--host", "0.0.0.0"), tmp_path)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4] == str(tmp_path / "launcher.py")
    assert (tmp_path / "launcher.py").read_text() == cli.LAUNCHER
    assert cli.LAUNCHER.split('"""\n', 2)[-1].strip() == (ROOT / "app.py").read_text().split('"""\n', 2)[-1].strip()
    flags = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    settings = tomllib.loads((ROOT / "albertviz_app" / "streamlit.toml").read_text())
    for section, options in settings.items():
        for key, value in options.items():
            assert flags[f"--{section}.{key}"] == (str(value).lower() if isinstance(value, bool) else str(value))
    assert flags["--runner.postScriptGC"] == "false" and flags["--server.fileWatcherType"] == "none"
    assert flags["--server.port"] == "8600" and flags["--server.address"] == "0.0.0.0"


def test_serve_passes_streamlit_flags_through_and_lets_them_win(tmp_path):
    cmd, _ = cli.serve_plan(*serve_args("--server.fileWatcherType", "poll", "--server.headless", "true"), tmp_path)
    assert cmd.count("--server.fileWatcherType") == 1
    assert cmd[-4:] == ["--server.fileWatcherType", "poll", "--server.headless", "true"]


def test_serve_models_sets_the_folders_for_the_server_only(tmp_path, monkeypatch):
    monkeypatch.delenv("ALBERTVIZ_MODELS", raising=False)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    _, env = cli.serve_plan(*serve_args("--models", str(a), str(b)), tmp_path / "app")
    assert env["ALBERTVIZ_MODELS"].split(os.pathsep) == [str(a), str(b)]
    assert "ALBERTVIZ_MODELS" not in os.environ
    with pytest.raises(ConfigError, match="no such folder"):
        cli.serve_plan(*serve_args("--models", str(tmp_path / "nope")), tmp_path / "app")


def test_cli_commands_refuse_unknown_flags_except_serve(capsys):
    with pytest.raises(SystemExit):
        cli.main(["list-models", "--port", "1"])
    assert "unrecognized arguments" in capsys.readouterr().err
