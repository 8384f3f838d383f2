"""djfapi's benchmark harness: the same small API five ways, measured against each other.

``make bench`` (``python -m bench.run``) serves each competitor on its own and loads it with
wrk; ``make bench-inprocess`` (``python -m bench.inprocess``) calls each app directly, for the
per-request overhead in µs and under a profiler. See bench/RESULTS.md.
"""
