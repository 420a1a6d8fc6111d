"""The app's pages in menu order; quiz questions link to them by slug."""

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageInfo:
    slug: str
    title: str
    icon: str
    blurb: str

    @property
    def path(self) -> str:
        return f"views/{self.slug}.py"


PAGES = [
    PageInfo("home", "Home", "🏠", "What albertviz teaches and where to start."),
    PageInfo("parameters", "Parameter explorer", "🧮",
             "Count parameters, memory and FLOPs for any shape, sharing mode and embedding type."),
    PageInfo("attention", "Attention", "👀",
             "Per-layer, per-head attention of trained models; which layers reuse which weights."),
    PageInfo("hidden_states", "Hidden states", "📈",
             "How hidden states change across reused layers (ALBERT Fig. 1), CKA, live surgery on MiniLM."),
    PageInfo("embeddings", "Embeddings", "🔤",
             "Full vs factorized vs EELBERT-style hashed embeddings: how, how big, at what price."),
    PageInfo("convergence", "Convergence", "📉",
             "Why sharing works (Lin et al. 2023): gradients of shared blocks and a live mini-training."),
    PageInfo("quiz", "Quiz", "🎓", "Test yourself: practice questions and interview cards."),
]

SLUGS = {p.slug for p in PAGES}


def page_path(slug: str) -> str:
    return next(p.path for p in PAGES if p.slug == slug)
