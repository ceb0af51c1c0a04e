"""``python -m scaling_explorer``: the CLI."""

import sys

from .cli import main

sys.exit(main())
