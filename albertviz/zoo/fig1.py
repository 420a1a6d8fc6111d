"""ALBERT Fig. 1 averaged over held-out text, precomputed for every zoo cell and MiniLM.

    python -m albertviz.zoo.fig1            # writes albertviz/zoo/fig1.json

One sentence gives a noisy curve; the paper's figure is an average over data. Running 64 held-out
chunks through 21 models (12 cells, 8 extra seeds, MiniLM) takes longer than a page rerun may, so it is
done once here and the Hidden states page reads the JSON. Each zoo entry records the weights' SHA-256: a
retrained cell whose numbers are stale is ignored by `held_out_fig1` rather than shown. MiniLM reads the
same held-out text through its own tokenizer.
"""

from __future__ import annotations

import argparse
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from albertviz import zoo
from albertviz.analysis.measures import input_output_distance
from albertviz.core.model import Encoder
from albertviz.data.corpus import make_chunks, split, zoo_chunks, zoo_sources
from albertviz.data.tokenizer import load_tokenizer
from albertviz.zoo.cells import Cell

FIG1_PATH = Path(__file__).resolve().parent / "fig1.json"
N_CHUNKS = 64
SEQ_LEN = 64  # the zoo's training length; MiniLM reads the same chunks


def held_out_chunks(n: int = N_CHUNKS, seq_len: int = SEQ_LEN) -> torch.Tensor:
    """The first n held-out chunks of the corpus ([CLS] … [SEP]), never seen in zoo training."""
    chunks = make_chunks(load_tokenizer(), seq_len)
    _, held = split(chunks)
    return torch.from_numpy(chunks[held[:n]]).long()


def held_out_texts(n: int = N_CHUNKS, seq_len: int = SEQ_LEN) -> list[str]:
    """The exact text of those chunks, for a model with another tokenizer (MiniLM)."""
    chunks = zoo_chunks(load_tokenizer(), seq_len)
    _, held = split(chunks.ids)
    return [zoo_sources()[chunks.source[i]][1][chunks.start[i]:chunks.end[i]] for i in held[:n]]


def minilm_ids(model, texts: list[str]) -> list[torch.Tensor]:
    """Each text as MiniLM's own ids, one (1, T) tensor per chunk (lengths differ, so no padding is needed)."""
    return [torch.tensor([model.tokenizer.encode(t).ids[: model.config.max_position_embeddings]]) for t in texts]


@torch.no_grad()
def fig1_over_chunks(encoder: Encoder, ids: torch.Tensor | list[torch.Tensor], batch: int = 16
                     ) -> dict[str, list[float]]:
    """Per layer: mean (and spread across chunks) of the token-averaged L2 distance and angle.

    `ids` is (N, T), or a list of (1, T_i) tensors of different lengths (run one by one)."""
    per_chunk = []
    batches = [ids[i:i + batch] for i in range(0, len(ids), batch)] if isinstance(ids, torch.Tensor) else ids
    for x in batches:
        out = encoder(x, output_attentions=False)
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


def held_out_fig1(key: str, sha256: str | None = None, path: Path = FIG1_PATH, seed: int = 0) -> dict | None:
    """The precomputed series for a model key (and seed), or None if missing or computed from other weights."""
    if not path.exists():
        return None
    data = _read(str(path), path.stat().st_mtime)
    entry = data.get("models", {}).get(key) if seed == 0 else data.get("seeds", {}).get(key, {}).get(str(seed))
    if entry is None or (sha256 is not None and entry.get("sha256") not in (None, sha256)):
        return None
    return entry


def held_out_fig1_seeds(key: str) -> dict[int, dict]:
    """Every seed's precomputed series for a zoo cell whose weights still match: {seed: entry}."""
    try:
        seeds = zoo.seed_entries(key)
    except (zoo.ZooError, KeyError):
        return {}
    out = {s: held_out_fig1(key, e.get("sha256"), seed=s) for s, e in seeds.items()}
    return {s: e for s, e in out.items() if e is not None}


def main(argv: list[str] | None = None) -> None:
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
    result: dict[str, Any] = {"n_chunks": len(ids), "seq_len": ids.shape[1],
              "about": "ALBERT Fig. 1 per layer: L2 distance and angle (degrees) between the layer's input "
                       "and output, averaged over tokens, then over held-out corpus chunks.",
              "models": {}, "seeds": {}}
    jobs = [(c, s) for c in cells for s in zoo.seed_entries(c)] + [("minilm-l6", 0)]
    for key, seed in jobs:
        try:
            if key == "minilm-l6":
                model = zoo.load_pretrained(key)
            else:
                model = zoo.load(*Cell.parse(key), seed=seed)
        except (zoo.ZooError, ValueError) as err:  # a cell being written, or damaged: skip it, the page falls back
            print(f"{key} seed {seed}: skipped ({err})")
            continue
        entry: dict[str, Any] = fig1_over_chunks(model.encoder, minilm_ids(model, held_out_texts(args.chunks))
                                 if key == "minilm-l6" else ids)
        entry["sha256"] = model.entry.get("sha256")
        if seed == 0:
            result["models"][key] = entry
        else:
            result["seeds"].setdefault(key, {})[str(seed)] = entry
        print(f"{key} seed {seed}: degrees {entry['degrees']}")
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out} ({len(result['models'])} models)")


if __name__ == "__main__":
    main()
