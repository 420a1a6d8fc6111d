"""ALBERT Fig. 1 averaged over held-out text, precomputed for every zoo cell and MiniLM.

    python -m albertviz.precompute            # writes albertviz/zoo/fig1.json

One sentence gives a noisy curve; the paper's figure is an average over data. Running 64 held-out
chunks through 13 models takes longer than a page rerun may, so it is done once here and the
Hidden states page reads the JSON. Each zoo entry records the weights' SHA-256: a retrained cell
whose numbers are stale is ignored by `held_out_fig1` rather than shown.
"""

from __future__ import annotations

import argparse
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .analysis import input_output_distance
from .model import Encoder

FIG1_PATH = Path(__file__).resolve().parent / "zoo" / "fig1.json"
N_CHUNKS = 64
SEQ_LEN = 64  # the zoo's training length; MiniLM reads the same chunks


def held_out_chunks(n: int = N_CHUNKS, seq_len: int = SEQ_LEN) -> torch.Tensor:
    """The first n held-out chunks of the corpus ([CLS] … [SEP]), never seen in zoo training."""
    from .corpus import make_chunks, split
    from .tokenizer import load_tokenizer

    chunks = make_chunks(load_tokenizer(), seq_len)
    _, held = split(chunks)
    return torch.from_numpy(chunks[held[:n]]).long()


@torch.no_grad()
def fig1_over_chunks(encoder: Encoder, ids: torch.Tensor, batch: int = 16) -> dict[str, list[float]]:
    """Per layer: mean (and spread across chunks) of the token-averaged L2 distance and angle."""
    per_chunk = []
    for i in range(0, len(ids), batch):
        out = encoder(ids[i:i + batch], output_attentions=False)
        for b in range(out.last_hidden_state.shape[0]):
            per_chunk.append(input_output_distance(tuple(h[b] for h in out.hidden_states)))
    l2 = np.stack([c["l2"] for c in per_chunk])  # (chunks, L)
    deg = np.stack([c["degrees"] for c in per_chunk])
    return {"l2": l2.mean(0).round(5).tolist(), "degrees": deg.mean(0).round(4).tolist(),
            "l2_std": l2.std(0).round(5).tolist(), "degrees_std": deg.std(0).round(4).tolist(),
            "n_chunks": len(per_chunk)}


@lru_cache(maxsize=1)
def _read(path: str, mtime: float) -> dict:
    return json.loads(Path(path).read_text())


def held_out_fig1(key: str, sha256: str | None = None, path: Path = FIG1_PATH) -> dict | None:
    """The precomputed series for a model key, or None if missing or computed from other weights."""
    if not path.exists():
        return None
    entry = _read(str(path), path.stat().st_mtime).get("models", {}).get(key)
    if entry is None or (sha256 is not None and entry.get("sha256") not in (None, sha256)):
        return None
    return entry


def main(argv: list[str] | None = None) -> None:
    from . import zoo

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=FIG1_PATH)
    p.add_argument("--chunks", type=int, default=N_CHUNKS)
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    ids = held_out_chunks(args.chunks)
    try:
        cells = [e["name"] for e in zoo.list_models()]
    except zoo.ZooError:
        cells = []
    result = {"n_chunks": len(ids), "seq_len": ids.shape[1],
              "about": "ALBERT Fig. 1 per layer: L2 distance and angle (degrees) between the layer's input "
                       "and output, averaged over tokens, then over held-out corpus chunks.",
              "models": {}}
    for key in [*cells, "minilm-l6"]:
        try:
            if key == "minilm-l6":
                model = zoo.load_pretrained(key)
            else:
                sharing, embedding = key.split("-", 1)
                model = zoo.load(sharing=sharing, embedding=embedding)
        except zoo.ZooError as err:  # a cell still being written, or damaged: skip it, the page falls back
            print(f"{key}: skipped ({err})")
            continue
        entry = fig1_over_chunks(model.encoder, ids)
        entry["sha256"] = model.entry.get("sha256")
        result["models"][key] = entry
        print(f"{key}: degrees {entry['degrees']}")
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out} ({len(result['models'])} models)")


if __name__ == "__main__":
    main()
