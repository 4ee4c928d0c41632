"""`python -m bcsync.cli`: the same as `bcsync`, where the console script is not on PATH."""

import sys

from bcsync.cli import main

sys.exit(main())
