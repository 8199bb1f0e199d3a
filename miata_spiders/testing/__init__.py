"""Forums we control, served on 127.0.0.1, for the demo, end-to-end tests and benchmarks."""
