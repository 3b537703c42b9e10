"""Everything that talks to AWS, in four rooms that never mix:

* :mod:`.clients`: boto3 clients, created once per (service, region) per container;
* :mod:`.facts`: every read a check needs, behind one small interface (an AWS implementation
  cached per invocation and an in-memory twin for tests and the CLI);
* :mod:`.actions`: every write (create a log group, deregister a revision, store a secret, stop a
  task, publish the notification), each returning an :class:`~ecsguard.model.ActionResult`;
* :mod:`.state`: ecsguard's one DynamoDB table (idempotency records today).

Checks see only the facts interface; flows call actions; nothing else writes.
"""

from .clients import Clients

__all__ = ["Clients"]
