"""``python3 tools/bench [options]``, what ``make bench`` runs: see ``__init__.py``;
``python3 tools/bench installed-base [options]``: see ``installed_base.py``."""

import os
import sys

# Run as a folder, this file is a script of its own: import the package from
# tools/ instead (tools/bench_explain.py imports it the same way).
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

if sys.argv[1:2] == ["installed-base"]:
    from bench.installed_base import main as installed_base  # noqa: E402

    installed_base(sys.argv[2:])
else:
    from bench.main import main  # noqa: E402

    main()
