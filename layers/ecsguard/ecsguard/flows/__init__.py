"""One pipeline per event family, all built from the same pieces:

* :mod:`.registration`: RegisterTaskDefinition (every check on the new revision);
* :mod:`.launch`: RunTask/StartTask (plaintext credentials in container overrides);
* :mod:`.remediations`: the one registry of fixes (create a log group, migrate a secret) and the
  two blocks (deregister the offending revision, stop the tasks a call started);
* :mod:`.act_and_notify`: act and publish exactly once per CloudTrail event;
* :mod:`.migration`: the opt-in secret migration, imported only when it runs.

A flow parses an event (:mod:`ecsguard.events`), runs checks (:mod:`ecsguard.checks`), applies
policy, acts through :mod:`ecsguard.aws.actions` and renders through :mod:`ecsguard.render`.
Nothing below imports a flow.
"""
