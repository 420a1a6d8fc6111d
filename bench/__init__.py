"""`make bench`: speed and memory targets, measured side by side in one run, written to bench/results.*.

Each measurement module exposes `run() -> list[Result]`. Ratios are taken from interleaved repetitions
in the same process, so a noisy machine slows both sides alike.
"""
