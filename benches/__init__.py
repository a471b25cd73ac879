"""dtm's benchmarks: timed against baselines measured in the same run (``python -m benches``)."""

from __future__ import annotations
