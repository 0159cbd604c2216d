"""Side-by-side benchmarks of hubmirror against nginx (static reference) and olah.

`python -m bench` starts every server as its own process on loopback, runs the scenarios of
issue 3 (a–f), prints one table of ratios and writes bench/results/. Nothing runs at import.
"""
