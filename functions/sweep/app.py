"""Scheduled sweep: every ACTIVE task definition of the region, checked with the full catalogue.

A schedule (EventBridge Scheduler, ``Scheduled Event``) or ``{"action": "run"}`` sweeps in one
invocation; the Step Functions state machine calls ``plan``, then ``page`` per page of revisions,
then ``digest``. One digest message per run. The handler is built once per container.
"""

from ecsguard.handlers import make_sweep_handler

lambda_handler = make_sweep_handler()
