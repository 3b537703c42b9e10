"""Runtime: checks of this concern (being written)."""

from __future__ import annotations
