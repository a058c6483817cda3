"""``python -m sim`` is the ``distretto`` command."""

import sys

from sim.cli import main

sys.exit(main())
