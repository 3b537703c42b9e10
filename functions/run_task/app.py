"""RunTask / StartTask guard: EventBridge (CloudTrail API call) -> ecsguard core.

Plaintext credentials in ``overrides.containerOverrides`` are reported, and in block mode the
tasks the call started are stopped. The handler is built once per container; configuration
errors fail the cold start with the name of the offending variable.
"""

from ecsguard.handlers import make_launch_handler

lambda_handler = make_launch_handler()
