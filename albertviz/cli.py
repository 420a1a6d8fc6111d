"""Command line: `python -m albertviz.cli export-hf CELL DIR` and `python -m albertviz.cli list-models`.

export-hf writes a zoo cell as a standard Hugging Face folder; list-models prints what the server would
offer from ALBERTVIZ_MODELS and the local HF cache, with the reason for every model it cannot load.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from albertviz.core.config import ConfigError


def export_hf(cell: str, out_dir: Path) -> Path:
    from albertviz import zoo
    from albertviz.core.hf_export import export_hf_folder

    if "-" not in cell:
        raise zoo.ZooError(f"A zoo cell is named SHARING-EMBEDDING, e.g. all-factorized; got {cell!r}.")
    sharing, embedding = cell.split("-", 1)
    model = zoo.load(sharing=sharing, embedding=embedding)
    about = (f"albertviz zoo cell `{cell}`: {model.config.describe()}. Exported by `python -m albertviz.cli "
             f"export-hf {cell} DIR`; load with\n`AutoModelForMaskedLM.from_pretrained(DIR, use_safetensors=True)`.")
    return export_hf_folder(model.encoder, model.head, model.tokenizer, out_dir, description=about)


def list_models() -> None:
    from albertviz import checkpoints

    found = checkpoints.discover()
    print(f"ALBERTVIZ_MODELS: {[str(p) for p in checkpoints.configured_folders()] or 'not set'}; "
          f"HF cache: {checkpoints.hub_cache_dir()}; memory cap {checkpoints.max_model_mb():,.0f} MB")
    for c in found.checkpoints:
        print(c.line())
    for note in found.notes:
        print("note:", note)
    if not found.checkpoints:
        print("no BERT or ALBERT checkpoints found")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m albertviz.cli", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export-hf", help="write a zoo cell as a Hugging Face folder")
    ex.add_argument("cell", help="zoo cell, e.g. all-factorized")
    ex.add_argument("dir", type=Path, help="output folder")
    sub.add_parser("list-models", help="checkpoints the app would offer, and why any is unavailable")
    args = p.parse_args(argv)
    from albertviz.zoo import ZooError

    try:
        if args.command == "export-hf":
            out = export_hf(args.cell, args.dir)
            print(f"wrote {out} (config.json, model.safetensors, tokenizer.json)")
        else:
            list_models()
    except (ConfigError, ZooError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
