"""The app's pages in menu order; quiz questions link to them by slug.

The page scripts live in albertviz_app/views/, not in a folder named pages/: Streamlit (1.67) treats a
`pages/` folder next to the script it runs as its own multipage app and, on a fresh server, runs those files
directly — skipping app.py, so no page config, no torch thread setting, no bertviz assets and no aliases.
"""

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

VIEWS = Path(__file__).resolve().parent.parent / "views"


@dataclass(frozen=True)
class PageInfo:
    slug: str
    title: str
    icon: str
    blurb: str

    @property
    def path(self) -> str:
        """Absolute, so the pages open whichever script Streamlit runs: app.py in a clone, `albertviz serve`'s."""
        return str(VIEWS / f"{self.slug}.py")


PAGES = [
    PageInfo("home", "Home", "🏠", "What albertviz teaches and where to start."),
    PageInfo("parameters", "Parameter explorer", "🧮",
             "Count parameters, memory and FLOPs for any shape, sharing mode and embedding type."),
    PageInfo("attention", "Attention", "👀",
             "Per-layer, per-head attention of trained models; which layers reuse which weights."),
    PageInfo("hidden_states", "Hidden states", "📈",
             "How hidden states change across reused layers (ALBERT Fig. 1), CKA, live surgery on a pretrained model."),
    PageInfo("embeddings", "Embeddings", "🔤",
             "Full vs factorized vs EELBERT-style hashed embeddings: how, how big, at what price."),
    PageInfo("convergence", "Convergence", "📉",
             "Why sharing works (Lin et al. 2023): gradients of shared blocks and a live mini-training."),
    PageInfo("quiz", "Quiz", "🎓", "Test yourself: practice questions and interview cards."),
]


def navigation() -> list:
    """Every st.Page for app.py's st.navigation, plus hidden aliases so typed or pasted URLs never 404.

    Streamlit serves the default page at "/" and answered "/home" with a "Page not found" dialog, and url paths
    are case-sensitive ("/Attention" failed too). So Home is an ordinary page at /home, the default page is a
    hidden redirect from "/" to it, and each page also answers its capitalised slug; a redirect keeps the
    query string, so a link with a view still opens that view.
    """
    real = {p.slug: st.Page(p.path, title=p.title, icon=p.icon, url_path=p.slug) for p in PAGES}

    def redirect(slug: str, path: str):
        def go() -> None:
            st.switch_page(real[slug], query_params=st.query_params.to_dict())
        go.__name__ = f"redirect_{path or 'root'}"
        return go

    aliases = [st.Page(redirect("home", ""), title=real["home"].title, icon=PAGES[0].icon, default=True,
                       visibility="hidden")]
    for p in PAGES:
        for path in dict.fromkeys([p.slug.capitalize(), p.slug.title()]):
            if path != p.slug:
                aliases.append(st.Page(redirect(p.slug, path), title=p.title, url_path=path, visibility="hidden"))
    return list(real.values()) + aliases
