"""Stopped-task diagnosis: EventBridge (ECS Task State Change, lastStatus STOPPED) -> ecsguard core.

Says why a task stopped, in ECS terms and with its fix, once per task definition and cause per
window; creates the missing log group behind a ResourceInitializationError. Built once per container.
"""

from ecsguard.handlers import make_stopped_handler

lambda_handler = make_stopped_handler()
