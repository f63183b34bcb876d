"""``python3 tools/load [options]``, what ``make load`` runs: see ``__init__.py``."""

import os
import sys

# Run as a folder, this file is a script of its own: import the package from
# tools/ instead, next to the bench whose seed it reuses.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from load.main import main  # noqa: E402

main()
