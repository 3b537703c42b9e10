"""Stopped-task diagnosis (scope "stopped"): why did that task stop, in ECS terms, and what fixes it?"""

from __future__ import annotations
