"""RegisterTaskDefinition guard: EventBridge (CloudTrail API call) -> ecsguard core.

The handler is built once per container; configuration errors fail the cold start with the
name of the offending variable.
"""

from ecsguard.handlers import make_registration_handler

lambda_handler = make_registration_handler()
