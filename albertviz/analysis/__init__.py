"""Measurements of a model: attention entropy and distance, hidden-state similarity, surgery, teacher maps."""
