"""Benchmarks (run as scripts, e.g. ``.venv/bin/python bench/poll_cycle.py``)."""
