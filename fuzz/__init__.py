"""Coverage-guided fuzz targets (atheris/libFuzzer) for every parser of outside input.

Each module here is one target: `python -m fuzz.<name> [libFuzzer flags] [corpus…]`, or
through `fuzz/run.py`, which runs them with a seed and a budget and prints the figures.
A target's `one_input(data)` is plain Python too, so tests replay reproducers without
atheris. This package must not import `compliance` itself: a target imports it inside
`instrumented()` so that coverage of our code guides the search.
"""
