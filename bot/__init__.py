"""Rapport: keeps the informal client–provider relationship alive, in Slack."""

import os

# The drift model's matrix products are tiny, and requests already run in parallel: BLAS
# threads would only wait for busy cores (one 40,000-character message spent 8 ms instead
# of 0.2 ms in them on a loaded machine). Set before numpy loads; an operator's setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
