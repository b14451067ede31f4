"""Benchmark support for ``formats/x12``: the synthetic 837P generator, the peer
adapters and the plain-Python baselines used by ``bench/bench_x12.py`` and
``bench/bench_x12_memory.py``.

Everything here is standard library only, so the peer runner can be executed
by the Python of another virtual environment.
"""
