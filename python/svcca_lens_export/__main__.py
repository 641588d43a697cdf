"""``python -m svcca_lens_export``: see cli.py."""

import sys

from .cli import main

sys.exit(main())
