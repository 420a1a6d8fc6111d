"""The model itself: configuration, sharing plans, embeddings, the encoder, exact parameter counts, HF in and out.

Depends on torch only; every other layer builds on this one.
"""
