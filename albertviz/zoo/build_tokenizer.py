"""Learn the zoo's 8,192-piece WordPiece vocabulary from the zoo corpus: `python -m albertviz.zoo.build_tokenizer`.

Deterministic for the same text; the result is committed as albertviz/zoo/tokenizer.json, so only a change of
corpus needs it again (and then the whole zoo must be retrained).
"""

from albertviz.data.corpus import zoo_sources
from albertviz.data.tokenizer import TOKENIZER_PATH, train_wordpiece

if __name__ == "__main__":
    tok = train_wordpiece([text for _, text in zoo_sources()])
    tok.save(str(TOKENIZER_PATH))
    print(f"wrote {TOKENIZER_PATH} ({tok.get_vocab_size()} pieces)")
