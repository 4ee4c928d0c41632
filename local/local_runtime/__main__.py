"""`python -m local_runtime`: a local stack for the CLI and manual runs (see runtime.main)."""

import sys

from .runtime import main

sys.exit(main())
