"""Entry point for `python -m matcher`."""

import sys

from .cli import main

sys.exit(main())
