"""`albertviz serve --models DIR` end to end: a user's own checkpoint picked in a real Chromium.

The folder holds a tiny random `BertForMaskedLM` saved with `save_pretrained(safe_serialization=True)` (no hub
model exists on these machines). The server is started the way its owner would start it, through the CLI, with
no ALBERTVIZ_MODELS in its environment and the HF cache scan off, so the model can only come from `--models`.
The head map the browser draws is compared with transformers' own attention for the same sentence.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

from bench.browser import RUN_COUNTER_JS, free_port, key_css
from e2e.conftest import PAGE_TIMEOUT_S, VIEWPORT, App

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
WORDS = "the cat sat on mat ghost of king walks castle walls at midnight , . !".split()
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *"abcdefghijklmnopqrstuvwxyz",
         *[f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"]]
NAME = "my-bert"


def save_tiny_bert(folder: Path) -> Path:
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=37, max_position_embeddings=128)
    model = BertForMaskedLM(cfg).eval()
    with torch.no_grad():  # sharper queries and keys: attention rows far from uniform, so a wrong map shows
        for name, p in model.named_parameters():
            if ".query." in name or ".key." in name:
                p.mul_(40)
    model.save_pretrained(str(folder), safe_serialization=True)
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    return folder


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve-models")
    models = tmp / "models"
    save_tiny_bert(models / NAME)
    port, log = free_port(), tmp / "serve.log"
    env = {k: v for k, v in os.environ.items() if k != "ALBERTVIZ_MODELS"}
    env |= {"ALBERTVIZ_SCAN_HF_CACHE": "0", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT),
            "ALBERTVIZ_CACHE": str(tmp / "cache")}
    cmd = [sys.executable, "-m", "albertviz.cli", "serve", "--models", str(models), "--port", str(port),
           "--host", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, f"albertviz serve exited with {proc.returncode}:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no health answer within 180 s:\n{log.read_text()}"
            time.sleep(0.5)
        yield {"url": url, "folder": models / NAME, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def tab(chromium, served):
    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(PAGE_TIMEOUT_S * 1000)
    context.add_init_script(RUN_COUNTER_JS)
    a = App(context.new_page(), served["url"])
    a.page.on("dialog", lambda d: (a.dialogs.append(f"{d.type}: {d.message}"), d.dismiss()))
    context.route(re.compile(r"^(?!(http|ws)://127\.0\.0\.1[:/])(https?|wss?)://"),
                  lambda route: (a.external.append(route.request.url), route.abort()))
    yield a
    context.close()


def heatmap_z(app: App, key: str) -> np.ndarray:
    plot = app.page.locator(f"{key_css(key)} .js-plotly-plot").first
    z = plot.evaluate("""el => { const z = el.data[0].z;
        return z && z.bdata ? {bdata: z.bdata, dtype: z.dtype, shape: String(z.shape)}
                            : Array.from(z, row => Array.from(row)); }""")
    if isinstance(z, dict):  # plotly ≥ 6 sends numpy arrays base64-encoded: {'bdata', 'dtype', 'shape'}
        flat = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        return flat.reshape([int(n) for n in z["shape"].split(",")]).astype(float)
    return np.asarray(z, dtype=float)


def test_a_served_checkpoint_is_picked_and_its_attention_drawn(tab, served):
    tab.visit("attention")
    tab.assert_healthy()
    mine = [o for o in tab.options("attention.model") if o.startswith(f"{NAME} (BERT")]
    assert mine, f"{NAME} is not offered by the picker; server log:\n{served['log'].read_text()[-3000:]}"
    tab.select("attention.model", mine[0])
    tab.assert_healthy()
    key = f"attention.head_map.hf:{NAME}"
    assert tab.charts(key) == 1 and tab.charts(f"attention.grid.hf:{NAME}") == 1
    text = tab.widget("attention.text").locator("input, textarea").first.input_value()
    # transformers' own tokenizer and model on the same folder: the map drawn is layer 1, head 1 of this model
    tok = AutoTokenizer.from_pretrained(str(served["folder"]), local_files_only=True)
    hf = BertForMaskedLM.from_pretrained(str(served["folder"]), local_files_only=True, use_safetensors=True,
                                         attn_implementation="eager").eval()
    with torch.no_grad():
        attn = hf(**tok(text, return_tensors="pt"), output_attentions=True).attentions[0][0, 0].numpy()
    assert attn.max(-1).mean() > 2 / attn.shape[-1]  # not near-uniform
    drawn = heatmap_z(tab, key)
    assert drawn.shape == attn.shape
    np.testing.assert_allclose(drawn, attn, atol=1e-4)  # the figure rounds to 4 decimals
