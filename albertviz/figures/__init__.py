"""Plotly figure builders: pure functions, arrays or configs in, go.Figure out (one module per topic)."""
