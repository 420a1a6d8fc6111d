"""Command line: `albertviz COMMAND` once installed (`pip install .`), or `python -m albertviz.cli COMMAND`.

  serve        the app in a browser: `streamlit run` with the packaged Streamlit settings (--port, --host,
               --models DIR ...; any other flag, e.g. --server.headless true, goes to Streamlit as it is)
  train        pre-train zoo cells (albertviz.zoo.build; `albertviz train --help` for its options)
  export-hf    write a zoo cell as a standard Hugging Face folder
  list-models  what the server would offer from ALBERTVIZ_MODELS and the local HF cache, with the reason for every
               model it cannot load
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from albertviz import checkpoints, zoo
from albertviz.core.config import ConfigError
from albertviz.core.hf_export import export_hf_folder
from albertviz.data.corpus import cache_dir
from albertviz.zoo import build
from albertviz.zoo.cells import Cell

APP_PACKAGE = "albertviz_app"  # located, never imported: the library sits below the app
SETTINGS = "streamlit.toml"  # the app's Streamlit settings; a clone's .streamlit/config.toml links to it
# The same three lines as the root app.py. Streamlit serves `static/` next to the script it runs, so the script
# lives in the user cache and the bertviz assets are written there, never into site-packages.
LAUNCHER = '''"""albertviz, written by `albertviz serve` (albertviz/cli.py): Streamlit runs this file."""

from pathlib import Path

from albertviz_app.main import main

main(Path(__file__).resolve().parent)
'''


def export_hf(cell: str, out_dir: Path) -> Path:
    try:
        parsed = Cell.parse(cell)
    except ValueError as err:
        raise zoo.ZooError(f"{err} For example: all-factorized.") from err
    model = zoo.load(sharing=parsed.sharing, embedding=parsed.embedding)
    about = (f"albertviz zoo cell `{cell}`: {model.config.describe()}. Exported by `albertviz "
             f"export-hf {cell} DIR`; load with\n`AutoModelForMaskedLM.from_pretrained(DIR, use_safetensors=True)`.")
    return export_hf_folder(model.encoder, model.head, model.tokenizer, out_dir, description=about)


def list_models() -> None:
    found = checkpoints.discover()
    print(f"ALBERTVIZ_MODELS: {[str(p) for p in checkpoints.configured_folders()] or 'not set'}; "
          f"HF cache: {checkpoints.hub_cache_dir()}; memory cap {checkpoints.max_model_mb():,.0f} MB")
    for c in found.checkpoints:
        print(c.line())
    for note in found.notes:
        print("note:", note)
    if not found.checkpoints:
        print("no BERT or ALBERT checkpoints found")


def app_dir() -> Path:
    """The albertviz_app folder, installed or in a clone (find_spec of a top-level name imports nothing)."""
    spec = importlib.util.find_spec(APP_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"The {APP_PACKAGE} package is not installed next to albertviz: reinstall albertviz.")
    return Path(next(iter(spec.submodule_search_locations)))


def settings_flags(settings: Path, given: list[str]) -> list[str]:
    """Every packaged setting as `--section.key value` (Streamlit reads config files only from the current folder
    and ~/.streamlit), except the ones the caller passes itself."""
    taken = {arg.split("=", 1)[0] for arg in given if arg.startswith("--")}
    flags = []
    for section, options in tomllib.loads(settings.read_text(encoding="utf-8")).items():
        for key, value in options.items():
            if f"--{section}.{key}" in taken:
                continue
            for v in value if isinstance(value, list) else [value]:
                flags += [f"--{section}.{key}", str(v).lower() if isinstance(v, bool) else str(v)]
    return flags


def write_launcher(folder: Path) -> Path:
    """The launcher script in `folder`, with the `static/` Streamlit serves beside it (there before it starts)."""
    (folder / "static").mkdir(parents=True, exist_ok=True)
    launcher = folder / "launcher.py"
    if not launcher.exists() or launcher.read_text(encoding="utf-8") != LAUNCHER:
        launcher.write_text(LAUNCHER, encoding="utf-8")
    return launcher


def serve_plan(args: argparse.Namespace, extra: list[str], folder: Path) -> tuple[list[str], dict[str, str]]:
    """The `streamlit run` command line and environment `serve` starts, with the launcher written into `folder`."""
    env = dict(os.environ)
    if args.models:
        missing = [d for d in args.models if not Path(d).expanduser().is_dir()]
        if missing:
            raise ConfigError(f"--models: no such folder {', '.join(map(str, missing))}.")
        env[checkpoints.MODELS_ENV] = os.pathsep.join(str(Path(d).expanduser().resolve()) for d in args.models)
    own = [*(["--server.port", str(args.port)] if args.port is not None else []),
           *(["--server.address", args.host] if args.host is not None else []), *extra]
    launcher = write_launcher(folder)
    return [sys.executable, "-m", "streamlit", "run", str(launcher), *settings_flags(app_dir() / SETTINGS, own),
            *own], env


def serve(args: argparse.Namespace, extra: list[str]) -> int:
    cmd, env = serve_plan(args, extra, cache_dir() / "app")
    if os.name == "posix":
        os.execve(cmd[0], cmd, env)  # the server becomes this process: Ctrl-C and signals reach Streamlit
    return subprocess.call(cmd, env=env)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="albertviz", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    sv = sub.add_parser("serve", help="serve the app (streamlit run); other flags go to Streamlit")
    sv.add_argument("--port", type=int, help="port to listen on (Streamlit's default: 8501)")
    sv.add_argument("--host", help="address to bind, e.g. 0.0.0.0 for the school network")
    sv.add_argument("--models", nargs="+", type=Path, metavar="DIR",
                    help="checkpoint folders to offer (sets ALBERTVIZ_MODELS for the server)")
    sub.add_parser("train", help="pre-train zoo cells (albertviz.zoo.build)", add_help=False)
    ex = sub.add_parser("export-hf", help="write a zoo cell as a Hugging Face folder")
    ex.add_argument("cell", help="zoo cell, e.g. all-factorized")
    ex.add_argument("dir", type=Path, help="output folder")
    sub.add_parser("list-models", help="checkpoints the app would offer, and why any is unavailable")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["train"]:
        build.main(argv[1:])  # the zoo build's own options and --help
        return 0
    p = parser()
    args, extra = p.parse_known_args(argv)
    if extra and args.command != "serve":
        p.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "serve":
            return serve(args, extra)
        if args.command == "export-hf":
            out = export_hf(args.cell, args.dir)
            print(f"wrote {out} (config.json, model.safetensors, tokenizer.json)")
        else:
            list_models()
    except (ConfigError, zoo.ZooError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
