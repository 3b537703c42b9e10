"""Network checks of a launch (scope "launch"): can this task reach its image registry?"""

from __future__ import annotations
