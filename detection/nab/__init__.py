"""The Numenta Anomaly Benchmark: its scoring rules and a pure runner for streaming detectors."""
