"""Benchmarks and their data generator (see /work/shared/BENCHMARKS.md, bench/README.md).

`python -m bench <name>` runs one benchmark; `python -m bench all` runs them all at a
small scale. Every benchmark prints, as its last line,
`bench <name>: <figure> <unit> (baseline <figure>, ratio <r>) <scale>`.
"""
