"""albertviz installs as a package and runs from anywhere: packaged weights, settings and pages, caches outside it.

A fresh venv (no network): its interpreter sees the dev venv's packages through a .pth file, and
`pip install --no-deps --no-build-isolation --no-index` builds albertviz from a copy of the sources (so the
build's egg-info and build/ never land in the clone). Everything then runs from a temporary folder outside the repo.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from bench.protocol import Session, run_sync

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["pyproject.toml", "README.md", "albertviz", "albertviz_app"]
pytestmark = pytest.mark.slow


def make_venv(tmp: Path, editable: bool) -> tuple[Path, Path]:
    """(venv python, source copy) with albertviz installed from the copy."""
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        else:
            shutil.copy2(ROOT / name, src / name)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    dev = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "_dev_venv.pth").write_text("".join(f"import site; site.addsitedir({d!r})\n" for d in dev))
    cmd = [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
           "--disable-pip-version-check", *(["-e"] if editable else []), str(src)]
    subprocess.run(cmd, check=True, cwd=tmp, env=clean_env(tmp), timeout=600)
    return python, src


def clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return env | {"ALBERTVIZ_CACHE": str(tmp / "cache"), "ALBERTVIZ_SCAN_HF_CACHE": "0"}


def run_py(python: Path, code: str, tmp: Path) -> str:
    away = tmp / "elsewhere"
    away.mkdir(exist_ok=True)
    return subprocess.run([python, "-c", code], cwd=away, env=clean_env(tmp), check=True, capture_output=True,
                          text=True, timeout=300).stdout


LOAD = ("import albertviz, albertviz.zoo as zoo\n"
        "m = zoo.load('all', 'full')\n"
        "print(albertviz.__file__); print(zoo.ZOO_DIR); print(m.config.describe())")


def files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if "__pycache__" not in p.parts}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode("utf-8", "replace")


def wait_healthy(proc: subprocess.Popen, url: str, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"albertviz serve exited with {proc.returncode}:\n{log.read_text()}"
        try:
            if get(f"{url}/_stcore/health") == (200, "ok"):
                return
        except OSError:
            time.sleep(1)
    pytest.fail(f"no /_stcore/health after {timeout:.0f} s:\n{log.read_text()}")


def test_installed_copy_loads_packaged_weights_and_serves_the_app(tmp_path):
    python, _ = make_venv(tmp_path, editable=False)
    site = Path(run_py(python, "import albertviz, pathlib; print(pathlib.Path(albertviz.__file__).parents[1])",
                       tmp_path).strip())
    assert site.name == "site-packages" and tmp_path in site.parents, site
    out = run_py(python, LOAD, tmp_path).splitlines()
    assert Path(out[0]).is_relative_to(site) and Path(out[1]) == site / "albertviz" / "zoo", out
    assert "shared all" in out[2]
    assert (site / "albertviz" / "zoo" / "weights" / "all-full.safetensors").is_file()
    assert (site / "albertviz_app" / "streamlit.toml").is_file() and (site / "albertviz_app" / "views").is_dir()
    assert not (site / "bench").exists() and not (site / "tests").exists() and not (site / "deploy").exists()
    before = files(site)

    port, log = free_port(), tmp_path / "serve.log"
    url = f"http://127.0.0.1:{port}"
    away = tmp_path / "elsewhere"
    with open(log, "w") as out_file:
        proc = subprocess.Popen([python.parent / "albertviz", "serve", "--port", str(port), "--host", "127.0.0.1",
                                 "--server.headless", "true"], cwd=away, env=clean_env(tmp_path),
                                stdout=out_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(proc, url, log)
        status, html = get(f"{url}/home")
        assert status == 200 and "<div id=\"root\">" in html.replace("'", '"'), html[:500]

        async def home():
            async with Session(url, timeout=240) as s:
                return await s.open("home"), s.texts()
        first, texts = run_sync(home())
        assert first.ok, (first.errors, log.read_text())
        assert any("ALBERT" in t for t in texts), texts[:5]
        # the packaged settings reached the server (static serving is on only through them) and bertviz's
        # assets were written next to the launcher in the user cache
        static = tmp_path / "cache" / "app" / "static" / "bertviz"
        assert sorted(p.suffix for p in static.iterdir()) == [".js", ".js"], list(static.iterdir())
        name = next(static.iterdir()).name
        assert get(f"{url}/app/static/bertviz/{name}")[0] == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    assert files(site) == before, f"the server wrote into the package: {sorted(files(site) - before)}"
    assert not (away / ".streamlit").exists() and not (away / "static").exists()


def test_editable_install_runs_from_the_sources(tmp_path):
    python, src = make_venv(tmp_path, editable=True)
    out = run_py(python, LOAD, tmp_path).splitlines()
    assert Path(out[0]) == src / "albertviz" / "__init__.py" and Path(out[1]) == src / "albertviz" / "zoo", out
    help_text = subprocess.run([python.parent / "albertviz", "--help"], cwd=tmp_path / "elsewhere",
                               env=clean_env(tmp_path), check=True, capture_output=True, text=True).stdout
    assert all(c in help_text for c in ("serve", "train", "export-hf", "list-models"))
