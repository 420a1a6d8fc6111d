"""One frozen `ModelConfig` describes every model in albertviz.

Pages, the trainer, the parameter counter and the zoo all pass this one object around, so a
shape that validates here is a shape every other part can build. Validation raises
`ConfigError` with sentences a student can act on, before any tensor is allocated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from albertviz import labels

SHARING_MODES = ("none", "all", "ffn", "attention")
SHARE_STRATEGIES = ("sequence", "cycle", "cycle_rev")
EMBEDDING_TYPES = ("full", "factorized", "hashed")
ACTIVATIONS = ("gelu", "gelu_new", "relu", "silu")
HASH_POOLINGS = ("mean", "sum")

# Upper bounds on single sizes: far beyond ALBERT-xxlarge (H=4096, F=16384), low enough that an
# "absurd" shape typed into a page is refused before anything is built.
MAX_HIDDEN = 16384
MAX_LAYERS = 96
MAX_VOCAB = 1_000_000
MAX_INTERMEDIATE = 65536
MAX_POSITIONS = 8192


class ConfigError(ValueError):
    """A model shape that cannot be built; the message says what to change."""


@dataclass(frozen=True)
class ModelConfig:
    """The shape of an encoder plus how it shares weights and embeds tokens.

    `embedding_size` (E) defaults to `hidden_size` (H). With `embedding="factorized"` and E < H,
    tokens are embedded in E dimensions and projected to H (ALBERT); E = H means no projection.
    `hashed` computes each token's E-dim vector from its character n-grams (EELBERT), so there is
    no trainable word table; `hash_ngram_min/max`, `hash_seed` and `hash_pooling` set that function, and
    `hash_normalize` scales each pooled vector to unit length (see albertviz.core.embeddings).
    """

    vocab_size: int = 30522
    hidden_size: int = 768
    embedding_size: int | None = None
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    activation: str = "gelu"
    sharing: str = "none"
    share_strategy: str = "sequence"
    num_groups: int = 1
    embedding: str = "full"
    pooler: bool = True
    layer_norm_eps: float = 1e-12
    hash_ngram_min: int = 2
    hash_ngram_max: int = 4
    hash_seed: int = 0
    hash_pooling: str = "mean"
    hash_normalize: bool = False

    def __post_init__(self) -> None:
        if self.embedding_size is None:
            object.__setattr__(self, "embedding_size", self.hidden_size)
        validate(self)

    # Short aliases used in formulas and figure labels.
    @property
    def E(self) -> int:  # noqa: N802 - the paper's letter
        return int(self.embedding_size)  # type: ignore[arg-type]

    @property
    def has_projection(self) -> bool:
        """True when embeddings live in E < H dimensions and need an E→H projection."""
        return self.E != self.hidden_size

    def with_(self, **changes: object) -> ModelConfig:
        """A validated copy with some fields changed (the UI's sliders call this)."""
        if "hidden_size" in changes and "embedding_size" not in changes and self.embedding == "full":
            changes["embedding_size"] = changes["hidden_size"]
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"Unknown config field(s): {', '.join(unknown)}.")
        return cls(**data)

    def describe(self) -> str:
        """One line for captions: 'L6 H128 A4 F512 · E32 factorized · shared all (M=1, sequence)'."""
        share = labels.SHARING["none"] if self.sharing == "none" else (
            f"shared {self.sharing} (M={self.num_groups}, {self.share_strategy})")
        return (f"L{self.num_layers} H{self.hidden_size} A{self.num_heads} F{self.intermediate_size}"
                f" · E{self.E} {self.embedding} · {share}")


def _positive_int(name: str, value: object, upper: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {value!r}.")
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}.")
    if upper is not None and value > upper:
        raise ConfigError(
            f"{name} {value} is too large for this tool (at most {upper:,}); "
            "even the biggest ALBERT stays far below that.")


def _choice(name: str, value: object, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ConfigError(f"{name} must be one of {', '.join(options)}; got {value!r}.")


def validate(c: ModelConfig) -> None:
    """Raise ConfigError for the first problem found, phrased for a student."""
    _positive_int("vocab_size", c.vocab_size, MAX_VOCAB)
    _positive_int("hidden_size", c.hidden_size, MAX_HIDDEN)
    _positive_int("embedding_size", c.embedding_size, MAX_HIDDEN)
    _positive_int("num_layers", c.num_layers, MAX_LAYERS)
    _positive_int("num_heads", c.num_heads, MAX_HIDDEN)
    _positive_int("intermediate_size", c.intermediate_size, MAX_INTERMEDIATE)
    _positive_int("max_position_embeddings", c.max_position_embeddings, MAX_POSITIONS)
    _positive_int("type_vocab_size", c.type_vocab_size, 16)
    _positive_int("num_groups", c.num_groups, MAX_LAYERS)
    _choice("sharing", c.sharing, SHARING_MODES)
    _choice("share_strategy", c.share_strategy, SHARE_STRATEGIES)
    _choice("embedding", c.embedding, EMBEDDING_TYPES)
    _choice("activation", c.activation, ACTIVATIONS)
    _choice("hash_pooling", c.hash_pooling, HASH_POOLINGS)
    if c.hidden_size % c.num_heads:
        raise ConfigError(
            f"hidden_size {c.hidden_size} is not divisible by num_heads {c.num_heads}: "
            "each head gets hidden_size / num_heads dimensions. "
            f"Try {c.num_heads * max(1, round(c.hidden_size / c.num_heads))} or a head count that divides it.")
    if c.E > c.hidden_size:
        raise ConfigError(
            f"embedding_size E={c.E} is larger than hidden_size H={c.hidden_size}. "
            "Factorization only saves parameters when E ≤ H (ALBERT uses E=128 for H ≥ 768).")
    if c.embedding == "full" and c.E != c.hidden_size:
        raise ConfigError(
            f"A full embedding table has E = H = {c.hidden_size}; got E={c.E}. "
            "Choose embedding='factorized' to use a smaller E.")
    if c.num_groups > c.num_layers:
        raise ConfigError(
            f"num_groups M={c.num_groups} is larger than num_layers L={c.num_layers}: "
            "each parameter group must be used by at least one layer (1 ≤ M ≤ L).")
    if not 1 <= c.hash_ngram_min <= c.hash_ngram_max <= 16:
        raise ConfigError(
            f"n-gram range {c.hash_ngram_min}..{c.hash_ngram_max} is empty or reversed: "
            "need 1 ≤ min ≤ max ≤ 16.")
    if not isinstance(c.hash_normalize, bool) or not isinstance(c.pooler, bool):
        raise ConfigError("hash_normalize and pooler must be True or False.")
    if not (isinstance(c.layer_norm_eps, float) and 0 < c.layer_norm_eps < 1):
        raise ConfigError(f"layer_norm_eps must be a small positive number, got {c.layer_norm_eps!r}.")


def _bert(layers: int, hidden: int, heads: int) -> ModelConfig:
    return ModelConfig(vocab_size=30522, hidden_size=hidden, num_layers=layers, num_heads=heads,
                       intermediate_size=4 * hidden)


def _albert(layers: int, hidden: int, heads: int, ffn: int) -> ModelConfig:
    return ModelConfig(vocab_size=30000, hidden_size=hidden, embedding_size=128, num_layers=layers,
                       num_heads=heads, intermediate_size=ffn, activation="gelu_new", sharing="all",
                       embedding="factorized")


PRESETS: dict[str, ModelConfig] = {
    "bert-tiny": _bert(2, 128, 2),
    "bert-mini": _bert(4, 256, 4),
    "bert-small": _bert(4, 512, 8),
    "bert-medium": _bert(8, 512, 8),
    "bert-base": _bert(12, 768, 12),
    "bert-large": _bert(24, 1024, 16),
    "albert-base": _albert(12, 768, 12, 3072),
    "albert-large": _albert(24, 1024, 16, 4096),
    "albert-xlarge": _albert(24, 2048, 16, 8192),
    "albert-xxlarge": _albert(12, 4096, 64, 16384),
    "minilm-l6": ModelConfig(vocab_size=30522, hidden_size=384, num_layers=6, num_heads=12,
                             intermediate_size=1536),
}
