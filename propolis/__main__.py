"""``python -m propolis`` is the ``propolis`` command."""

import sys

from propolis.platform.cli import main

sys.exit(main())
