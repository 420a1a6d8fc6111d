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

Served by the app (issue 15): inlining costs 325 KB of d3 + jQuery in every view the server sends, i.e. on every
sentence, layer or model a student picks. `serve_assets_from(url)` (the app calls it when Streamlit's static file
serving is on) makes the views reference the same two files at `url` instead — written there by `export_assets`
from the same packages, fetched once by the browser from the app's own origin, pinned by a subresource-integrity
hash — so the offline guarantee holds: nothing but the app's own server is ever asked. Without it, or for a
standalone file, everything stays inlined. Either way the view's parameters are sent once (bertviz also pastes
them into a JavaScript comment) and as short decimals (float32 values printed as doubles took 2.5× the space).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import torch

VIEWS = ("head", "model")


def _js(name: str) -> str:
    """A script shipped beside this module (albertviz/figures/js), inlined into every page."""
    return (Path(__file__).parent / "js" / name).read_text(encoding="utf-8")


# The AMD stand-in: d3 and jQuery have already set window.d3 / window.jQuery (no `define` existed when
# they ran), so `require(['jquery', 'd3'], fn)` just looks them up. require.config is a no-op.
AMD_SHIM = _js("amd_shim.js")

# A head view embedded in a page that shows "layer N" in its own address (`?layer=N`, 1-based, absent = 1)
# follows it: on load, and whenever the host page's query changes (checked every 100 ms), it picks that layer
# in bertviz's own select (clamped to the layers drawn) and lets bertviz redraw. So the frame's HTML is the same
# for every layer and the browser never reloads it on a layer switch (a reload cost 0.6 s at 48 tokens against
# 0.2 s for bertviz's own redraw). A layer picked in the frame's select stays until the host's layer changes.
# A standalone file (no host page) keeps the layer it was rendered with.
FOLLOW_SCRIPT = _js("follow_layer.js")

# No network at all, whatever ends up in the page: scripts and styles only inline, images only data:.
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data:; font-src data:")
# Served: scripts may also come from the app's own origin (the iframe shares it), nothing else.
CSP_SERVED = CSP.replace("script-src 'unsafe-inline'", "script-src 'self' 'unsafe-inline'")
ASSET_FILES = {"d3": "d3.v5.min.js", "jquery": "jquery.min.js"}
ASSET_NOTES = {"d3": "d3 v5, from the mpld3 package", "jquery": "jQuery, from the XStatic-jQuery package"}
_served_from: str | None = None  # set by serve_assets_from(); None = inline

_CDN_SCRIPT_TAG = re.compile(r"<script[^>]*\bsrc=[\"'][^\"']*[\"'][^>]*>\s*</script>", re.IGNORECASE)
_REQUIRE_CONFIG = re.compile(r"require\.config\(\{.*?\}\s*\}\);", re.DOTALL)
_PARAMS_MARK = "const params = "
# bertviz's model view is a fixed 970 px wide: in a narrower frame (two models side by side, a projector, a phone)
# its right-hand heads were cut off. Its thumbnails divide DIV_WIDTH by the heads, and no height depends on it,
# so it is made to fit the frame it opens in; the height (frame_height) stays the same.
_MODEL_WIDTH = "const DIV_WIDTH = 970;"
_MODEL_WIDTH_FIT = "const DIV_WIDTH = Math.max(300, Math.min(970, window.innerWidth - 16));"
# bertviz's layout constants (head_view.js, model_view.js), for frame_height.
HEAD_BOX_HEIGHT, HEAD_TEXT_TOP = 22.5, 30
MODEL_AXIS, MODEL_THUMB_PADDING, MODEL_DETAIL_BOX, MODEL_DETAIL_EXTRA = 38, 5, 18, 2 * 15 + 25
BODY_MARGIN, SELECT_LINE, SVG_DESCENT = 8, 19, 4  # the page's margin, one line of <select>s, an inline svg's gap


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


def export_assets(folder: Path) -> dict[str, Path]:
    """Write d3 and jQuery into `folder` (the app's static/ folder) unless identical copies are there already."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in local_assets().items():
        path = folder / ASSET_FILES[name]
        data = text.encode("utf-8")
        if not path.exists() or path.read_bytes() != data:
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: a replica starting alongside never serves half a file
        paths[name] = path
    return paths


def serve_assets_from(url: str | None) -> None:
    """Reference d3/jQuery at `url` (e.g. '/app/static/bertviz') in every view from now on; None inlines them."""
    global _served_from
    _served_from = _checked_path(url) if url else None


def _checked_path(url: str) -> str:
    """A URL path on the app's own server ('/app/static/bertviz'); anything with a host would break offline use."""
    if not re.fullmatch(r"/[A-Za-z0-9._~/-]*", url) or url.startswith("//"):
        raise ValueError(f"bertviz's scripts must come from a path on the app's own server, not {url!r}")
    return url.rstrip("/")


def served_from() -> str | None:
    return _served_from


@lru_cache(maxsize=1)
def _integrity() -> dict[str, str]:
    """sha384 subresource-integrity values: the browser runs the served file only if it is exactly this one."""
    return {k: "sha384-" + base64.b64encode(hashlib.sha384(v.encode("utf-8")).digest()).decode()
            for k, v in local_assets().items()}


def _asset_tags(served: str | None) -> str:
    assets = local_assets()
    if served is None:
        return "".join(f"<script>/* {ASSET_NOTES[k]} */\n{assets[k]}\n</script>\n" for k in ASSET_FILES)
    integrity = _integrity()
    version = {k: integrity[k][7:15].replace("/", "_").replace("+", "-") for k in ASSET_FILES}  # cache buster
    return "".join(f"<script src=\"{html.escape(served)}/{ASSET_FILES[k]}?v={version[k]}\" "
                   f"integrity=\"{integrity[k]}\"></script>\n" for k in ASSET_FILES)


def _script_safe(js: str) -> str:
    """Library code inlined in <script> must not contain `</script`; these builds do not, but check."""
    if re.search(r"</script", js, re.IGNORECASE):
        raise OfflineAssetError("A local JavaScript library contains '</script' and cannot be inlined.")
    return js


def _escape_markup(json_text: str) -> str:
    return json_text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def safe_json(value: object) -> str:
    """JSON that can sit inside <script>: `<`, `>`, `&` escaped so the HTML parser sees no tags."""
    return _escape_markup(json.dumps(value))  # ensure_ascii: U+2028/U+2029 are escaped too


_HACK_SEP = "; // HACK: "


def _params_text(doc: str, begin: int) -> str:
    """The raw JSON that bertviz substituted at `begin`.

    Its line reads `RAW; // HACK: RAW is a template marker…` (the marker is replaced in the comment too), so
    RAW is the prefix that reappears right after the separator: found without parsing the attention it holds
    (parsing and re-encoding it was a sixth of an Attention rerun). Falls back to a JSON parse otherwise.
    """
    end = doc.find("\n", begin)
    line = doc[begin:end if end >= 0 else None]
    at = line.find(_HACK_SEP)
    while at > 0:
        raw = line[:at]
        if line.startswith(raw, at + len(_HACK_SEP)):
            return raw
        at = line.find(_HACK_SEP, at + 1)
    _, end = json.JSONDecoder().raw_decode(doc, begin)
    return doc[begin:end]


def _reencode_params(doc: str) -> str:
    """Replace every copy of bertviz's raw `json.dumps(params)` by the same JSON with markup escaped.

    bertviz substitutes its template marker everywhere, a `// HACK: PYTHON_PARAMS` comment included, so
    the raw JSON appears twice; a `</script>` inside a JavaScript comment still ends the script. bertviz's
    `json.dumps(params)` is what `safe_json(params)` encodes, so escaping its text gives safe_json's output.
    """
    start = doc.find(_PARAMS_MARK)
    if start < 0:
        raise OfflineAssetError("bertviz's output changed: no parameter block found.")
    begin = start + len(_PARAMS_MARK)
    raw = _params_text(doc, begin)
    doc = doc.replace(f"// HACK: {raw}", "// HACK: (parameters above)")  # the comment's copy: half the bytes
    return doc.replace(raw, _escape_markup(raw))


def _as_layers(attentions: np.ndarray | torch.Tensor | list) -> list[torch.Tensor]:
    """(L, heads, T, T) array or per-layer tensors → bertviz's list of (1, heads, T, T) tensors."""
    # float64: a float32 rounded to 4 decimals prints as 0.06750000268220901 once bertviz calls .tolist()
    layers = [torch.as_tensor(np.asarray(a), dtype=torch.float64).round(decimals=4) for a in attentions]
    return [a if a.dim() == 4 else a.unsqueeze(0) for a in layers]


_INLINE = "inline"


def render(view: str, attentions, tokens: list[str], sentence_b_start: int | None = None,
           layer: int | None = None, heads: list[int] | None = None, title: str = "",
           assets: str | None = None, follow: str | None = None) -> str:
    """A complete offline HTML page with bertviz's `view` ('head' or 'model') for one sentence.

    `assets`: where d3 and jQuery come from — None: as `serve_assets_from` set (inline by default),
    "inline": always inlined (a standalone file), or a URL path on the app's own server. `follow` (head view
    only): the host page's query parameter that picks the layer (FOLLOW_SCRIPT).
    """
    import bertviz  # local: bertviz pulls in IPython (slow to import); only rendering a view needs it

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
    if view == "model":
        if body.count(_MODEL_WIDTH) != 1:
            raise OfflineAssetError("bertviz's output changed: could not fit the model view to its frame.")
        body = body.replace(_MODEL_WIDTH, _MODEL_WIDTH_FIT)
    body = _CDN_SCRIPT_TAG.sub("", body)
    body, n_config = _REQUIRE_CONFIG.subn("", body, count=1)
    if n_config != 1 or "cdnjs" in body or re.search(r"src=[\"']https?:", body):
        raise OfflineAssetError("bertviz's output changed: could not remove its CDN references.")
    if follow is not None:
        if view != "head":
            raise ValueError("only the head view has one layer to follow")
        script = FOLLOW_SCRIPT.replace('"__PARAM__"', _escape_markup(json.dumps(follow)))
        body += f"\n<script>/* follow the host page's layer */\n{_script_safe(script)}</script>"
    served = _served_from if assets is None else (None if assets == _INLINE else _checked_path(assets))
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP if served is None else CSP_SERVED}\">\n"
        f"<title>{html.escape(title or f'bertviz {view} view')}</title>\n"
        f"{_asset_tags(served)}"
        f"<script>/* AMD stand-in for require.js */{AMD_SHIM}</script>\n"
        "</head><body style=\"margin:8px;background:#fff\">\n"
        f"{body}\n</body></html>\n"
    )


def head_view_html(attentions, tokens: list[str], sentence_b_start: int | None = None,
                   layer: int | None = None, heads: list[int] | None = None) -> str:
    return render("head", attentions, tokens, sentence_b_start, layer=layer, heads=heads)


def model_view_html(attentions, tokens: list[str], sentence_b_start: int | None = None) -> str:
    return render("model", attentions, tokens, sentence_b_start)


def frame_height(view: str, n_layers: int, n_heads: int, n_tokens: int, pair: bool) -> int:
    """The height in px of `render(view, …)`'s page, from bertviz's own layout, so a frame shows all of it.

    A fixed frame clipped the model view (6 layers of 4 heads need 1,880 px for 14 tokens) and left ~270 px
    blank under a short head view. Head view: a line of selects, then one 22.5 px box per token. Model view:
    a select line only for a sentence pair, then one thumbnail per layer whose height grows with the tokens
    and shrinks with the heads (bertviz: 7·12/heads px per token), or the enlarged head if that is taller.
    """
    if view == "head":
        drawing = n_tokens * HEAD_BOX_HEIGHT + HEAD_TEXT_TOP
        top = SELECT_LINE
    elif view == "model":
        thumb = n_tokens * 7 * 12 / n_heads + 2 * MODEL_THUMB_PADDING
        drawing = max(n_layers * thumb + MODEL_AXIS, n_tokens * MODEL_DETAIL_BOX + MODEL_DETAIL_EXTRA)
        top = SELECT_LINE if pair else 0
    else:
        raise ValueError(f"view must be one of {VIEWS}, not {view!r}")
    return int(math.ceil(2 * BODY_MARGIN + top + drawing + SVG_DESCENT))
