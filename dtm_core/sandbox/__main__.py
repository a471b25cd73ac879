"""Entry point of the sandbox's background process: ``python -m dtm_core.sandbox --data-dir DIR``."""

from __future__ import annotations

import sys

from .daemon import main

if __name__ == "__main__":
    sys.exit(main())
