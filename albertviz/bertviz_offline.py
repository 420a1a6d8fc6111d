"""bertviz's head view and model view as self-contained HTML that renders with no network.

bertviz's `html_action="return"` output loads require.js from a CDN and asks it for d3 v5 and jQuery,
also from a CDN; offline (classrooms, this machine) the view stays blank. Two PyPI packages already
ship local copies: mpld3 (`mpld3/js/d3.v5.min.js`) and XStatic-jQuery (`jquery.min.js`). We inline
both, then a tiny AMD `require`/`define` stand-in that hands their globals to bertviz's unchanged
drawing code, and drop every CDN reference.

Safety: bertviz writes its parameters (tokens included) into a `<script>` with plain `json.dumps`,
so a token such as `</script><script>alert(1)//` would end the script early and run. We re-encode
that JSON with `<`, `>` and `&` as `\\u003c`, `\\u003e`, `\\u0026` (the same string for JavaScript, inert
for the HTML parser); bertviz then draws tokens with d3's `.text()`, which never parses markup.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import torch

VIEWS = ("head", "model")

# The AMD stand-in: d3 and jQuery have already set window.d3 / window.jQuery (no `define` existed when
# they ran), so `require(['jquery', 'd3'], fn)` just looks them up. require.config is a no-op.
AMD_SHIM = """
(function (w) {
  "use strict";
  var registry = {d3: w.d3, jquery: w.jQuery};
  function get(name) {
    if (!(name in registry)) { throw new Error("albertviz offline bertviz: no local copy of " + name); }
    return registry[name];
  }
  function requirejs(deps, callback) {
    var modules = [].concat(deps).map(get);
    if (callback) { callback.apply(w, modules); }
  }
  requirejs.config = function () {};
  function define(name, deps, factory) {
    if (typeof name !== "string") { throw new Error("albertviz offline bertviz: anonymous define"); }
    if (typeof deps === "function") { factory = deps; deps = []; }
    registry[name] = typeof factory === "function" ? factory.apply(w, deps.map(get)) : factory;
  }
  define.amd = {};
  w.require = w.requirejs = requirejs;
  w.define = define;
})(window);
"""

# No network at all, whatever ends up in the page: scripts and styles only inline, images only data:.
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data:; font-src data:")

_CDN_SCRIPT_TAG = re.compile(r"<script[^>]*\bsrc=[\"'][^\"']*[\"'][^>]*>\s*</script>", re.IGNORECASE)
_REQUIRE_CONFIG = re.compile(r"require\.config\(\{.*?\}\s*\}\);", re.DOTALL)
_PARAMS_MARK = "const params = "


class OfflineAssetError(RuntimeError):
    """A local JavaScript copy bertviz needs is missing; the message says which package to install."""


def _package_file(package: str, relative: str, pip_name: str) -> Path:
    spec = find_spec(package)
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        path = Path(root) / relative
        if path.exists():
            return path
    raise OfflineAssetError(f"The offline bertviz view needs {relative} from the package {pip_name}. "
                            f"Install it with `pip install --no-deps {pip_name}` (or run `make setup`).")


@lru_cache(maxsize=1)
def local_assets() -> dict[str, str]:
    """The JavaScript of d3 v5 and jQuery, read from the installed packages (not committed here)."""
    d3 = _package_file("mpld3", "js/d3.v5.min.js", "mpld3")
    jquery = _package_file("xstatic.pkg.jquery", "data/jquery.min.js", "XStatic-jQuery")
    return {"d3": _script_safe(d3.read_text(encoding="utf-8")),
            "jquery": _script_safe(jquery.read_text(encoding="utf-8"))}


def _script_safe(js: str) -> str:
    """Library code inlined in <script> must not contain `</script`; these builds do not, but check."""
    if re.search(r"</script", js, re.IGNORECASE):
        raise OfflineAssetError("A local JavaScript library contains '</script' and cannot be inlined.")
    return js


def safe_json(value: object) -> str:
    """JSON that can sit inside <script>: `<`, `>`, `&` escaped so the HTML parser sees no tags."""
    text = json.dumps(value)  # ensure_ascii: U+2028/U+2029 are escaped too
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _reencode_params(doc: str) -> str:
    """Replace every copy of bertviz's raw `json.dumps(params)` by `safe_json` of the same object.

    bertviz substitutes its template marker everywhere, a `// HACK: PYTHON_PARAMS` comment included, so
    the raw JSON appears twice; a `</script>` inside a JavaScript comment still ends the script.
    """
    start = doc.find(_PARAMS_MARK)
    if start < 0:
        raise OfflineAssetError("bertviz's output changed: no parameter block found.")
    begin = start + len(_PARAMS_MARK)
    params, end = json.JSONDecoder().raw_decode(doc, begin)
    return doc.replace(doc[begin:end], safe_json(params))


def _as_layers(attentions: np.ndarray | torch.Tensor | list) -> list[torch.Tensor]:
    """(L, heads, T, T) array or per-layer tensors → bertviz's list of (1, heads, T, T) tensors."""
    layers = [torch.as_tensor(np.asarray(a), dtype=torch.float32).round(decimals=4) for a in attentions]
    return [a if a.dim() == 4 else a.unsqueeze(0) for a in layers]


def render(view: str, attentions, tokens: list[str], sentence_b_start: int | None = None,
           layer: int | None = None, heads: list[int] | None = None, title: str = "") -> str:
    """A complete offline HTML page with bertviz's `view` ('head' or 'model') for one sentence."""
    import bertviz  # slow import (IPython); only when a view is asked for

    layers = _as_layers(attentions)
    tokens = [str(t) for t in tokens]
    if view == "head":
        out = bertviz.head_view(layers, tokens, sentence_b_start=sentence_b_start, layer=layer, heads=heads,
                                html_action="return")
    elif view == "model":
        out = bertviz.model_view(layers, tokens, sentence_b_start=sentence_b_start, display_mode="light",
                                 html_action="return")
    else:
        raise ValueError(f"view must be one of {VIEWS}, not {view!r}")
    body = _reencode_params(out.data)
    body = _CDN_SCRIPT_TAG.sub("", body)
    body, n_config = _REQUIRE_CONFIG.subn("", body, count=1)
    if n_config != 1 or "cdnjs" in body or re.search(r"src=[\"']https?:", body):
        raise OfflineAssetError("bertviz's output changed: could not remove its CDN references.")
    assets = local_assets()
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        f"<title>{html.escape(title or f'bertviz {view} view')}</title>\n"
        f"<script>/* d3 v5, from the mpld3 package */\n{assets['d3']}\n</script>\n"
        f"<script>/* jQuery, from the XStatic-jQuery package */\n{assets['jquery']}\n</script>\n"
        f"<script>/* AMD stand-in for require.js */{AMD_SHIM}</script>\n"
        "</head><body style=\"margin:8px;background:#fff\">\n"
        f"{body}\n</body></html>\n"
    )


def head_view_html(attentions, tokens: list[str], sentence_b_start: int | None = None,
                   layer: int | None = None, heads: list[int] | None = None) -> str:
    return render("head", attentions, tokens, sentence_b_start, layer=layer, heads=heads)


def model_view_html(attentions, tokens: list[str], sentence_b_start: int | None = None) -> str:
    return render("model", attentions, tokens, sentence_b_start)
