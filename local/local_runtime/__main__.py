"""`python -m local_runtime`: a local stack for the CLI and manual runs (see deployment.main)."""

import sys

from .deployment import main

sys.exit(main())
