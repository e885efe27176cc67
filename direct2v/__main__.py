"""`python -m direct2v ...`: see direct2v.cli."""

import sys

from .cli import main

sys.exit(main())
