"""A checkpoint's tokenizer as a `tokenizers.Tokenizer`: tokenizer.json, or BERT's / ALBERT's pipeline
rebuilt around vocab.txt / spiece.model (what transformers' slow tokenizers build), without transformers.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram, WordPiece

from albertviz.checkpoints.inspection import CheckpointError


def _tokenizer_options(folder: Path) -> dict:
    with contextlib.suppress(OSError, ValueError):
        opts = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        if isinstance(opts, dict):
            return opts
    return {}


def _special(opts: dict, name: str, default: str) -> str:
    v = opts.get(name, default)
    if isinstance(v, dict):  # AddedToken serialised as {"content": …}
        v = v.get("content", default)
    return v if isinstance(v, str) else default


def wordpiece_tokenizer(folder: Path) -> Tokenizer:
    """BERT's pipeline around a vocab.txt (what transformers' BertTokenizer builds), from `tokenizers` parts."""
    opts = _tokenizer_options(folder)
    names = {n: _special(opts, f"{n}_token", d) for n, d in
             (("unk", "[UNK]"), ("sep", "[SEP]"), ("cls", "[CLS]"), ("pad", "[PAD]"), ("mask", "[MASK]"))}
    tok = Tokenizer(WordPiece.from_file(str(folder / "vocab.txt"), unk_token=names["unk"]))
    lower = bool(opts.get("do_lower_case", True))
    strip = opts.get("strip_accents")
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=bool(
        opts.get("tokenize_chinese_chars", True)), strip_accents=strip if isinstance(strip, bool) else None,
        lowercase=lower)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    present = [t for t in names.values() if tok.token_to_id(t) is not None]
    tok.add_special_tokens(present)
    cls, sep = names["cls"], names["sep"]
    if tok.token_to_id(cls) is None or tok.token_to_id(sep) is None:
        raise CheckpointError(f"vocab.txt in {folder} has no {cls} / {sep} token.")
    tok.post_processor = processors.TemplateProcessing(
        single=f"{cls}:0 $A:0 {sep}:0", pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
        special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))])
    return tok


def sentencepiece_tokenizer(folder: Path) -> Tokenizer:
    """ALBERT's pipeline around a spiece.model (as transformers' AlbertTokenizer builds it).

    The file is a protobuf: reading it needs the schema that ships with `sentencepiece` plus `protobuf`.
    """
    from sentencepiece import sentencepiece_model_pb2 as pb  # optional: only for spiece.model

    proto = pb.ModelProto()
    proto.ParseFromString((folder / "spiece.model").read_bytes())
    if proto.trainer_spec.model_type != 1:
        raise CheckpointError(f"spiece.model in {folder} is not a Unigram model; save a tokenizer.json instead.")
    opts = _tokenizer_options(folder)
    tok = Tokenizer(Unigram([(p.piece, p.score) for p in proto.pieces], unk_id=proto.trainer_spec.unk_id,
                            byte_fallback=False))
    steps = [normalizers.Replace("``", '"'), normalizers.Replace("''", '"')]
    if not opts.get("keep_accents", False):
        steps += [normalizers.NFKD(), normalizers.StripAccents()]
    if opts.get("do_lower_case", True):
        steps.append(normalizers.Lowercase())
    if proto.normalizer_spec.precompiled_charsmap:
        steps.append(normalizers.Precompiled(proto.normalizer_spec.precompiled_charsmap))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    names = [_special(opts, f"{n}_token", d) for n, d in
             (("pad", "<pad>"), ("unk", "<unk>"), ("cls", "[CLS]"), ("sep", "[SEP]"), ("mask", "[MASK]"))]
    tok.add_special_tokens([t for t in names if tok.token_to_id(t) is not None])
    cls, sep = names[2], names[3]
    if tok.token_to_id(cls) is None or tok.token_to_id(sep) is None:
        raise CheckpointError(f"spiece.model in {folder} has no {cls} / {sep} piece.")
    tok.post_processor = processors.TemplateProcessing(
        single=f"{cls}:0 $A:0 {sep}:0", pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
        special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))])
    return tok


def load_checkpoint_tokenizer(folder: Path, kind: str) -> Tokenizer:
    try:
        if kind == "tokenizer.json":
            tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        elif kind == "vocab.txt":
            tok = wordpiece_tokenizer(folder)
        else:
            tok = sentencepiece_tokenizer(folder)
    except CheckpointError:
        raise
    except Exception as err:  # noqa: BLE001 - tokenizers raises plain Exception on bad files
        raise CheckpointError(f"The tokenizer ({kind}) in {folder} cannot be read: {err}") from err
    tok.no_padding()
    tok.no_truncation()
    return tok
