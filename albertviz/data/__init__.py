"""Text and tokens: the zoo corpus (fetched into the user cache), its WordPiece tokenizer, character chunks."""
