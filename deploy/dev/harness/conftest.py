"""Tests of the test tooling itself, not of livygate: the Sparkmagic kernel
driver (../e2e/kernel.py) against a fake Livy, and the dev JupyterHub's API.
They run in `make test` before the end-to-end suite, which relies on both.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
