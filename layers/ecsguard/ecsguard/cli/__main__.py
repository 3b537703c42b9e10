"""``python -m ecsguard.cli``: the same as the ``ecsguard`` command."""

import sys

from . import main

sys.exit(main())
