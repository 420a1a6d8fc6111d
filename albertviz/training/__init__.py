"""Masked-language-model training: masking, schedules, the step loop with checkpoints (zoo and live runs)."""
