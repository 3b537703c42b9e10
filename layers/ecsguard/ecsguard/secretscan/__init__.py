"""Plaintext credential detection for task definitions.

Every entry is judged by its name *and* its value together (see ``docs/secrets.md`` for the
conventions and the benchmark behind them):

1. provider formats anywhere in the value (``ghp_``, ``AKIA``, ``sk_live_``, ``xoxb-``, PEM private
   keys, JWTs, ...), unless the token is an obvious placeholder (``ghp_xxxx...``, ``...EXAMPLE``):
   :mod:`.providers`;
2. credentials inside URLs, DSNs and connection strings of any scheme (only the password part):
   :mod:`.urls`;
3. ``key=value`` / ``"key": "value"`` / ``Authorization: Bearer ...`` embedded in larger values
   (``JAVA_OPTS``, JSON settings, header lists), where the key is secret-named: :mod:`.values`;
4. a secret-named variable (``DB_PASSWORD``, ``JWT_SECRET``, ``DD_API_KEY``...) holding a real
   value: not a reference (ARN, SSM path, ``${...}``), not a placeholder (``changeme``,
   ``<password>``), not configuration (``PASSWORD_MIN_LENGTH``, ``TOKEN_TTL``, ``*_FILE``), not a
   key that is public by design (``pk_live_``, ``RECAPTCHA_SITE_KEY``): :mod:`.values`, with the
   name grammar in :mod:`.names`, value shapes in :mod:`.placeholders` and :mod:`.plausible`;
5. a command line kept in a variable (``REDIS_ARGS=--requirepass …``), scanned like ``command``:
   :mod:`.arguments`.

:mod:`.core` holds what they share (:class:`SecretMatch`, lazily compiled patterns, fingerprints,
entropy and randomness measures). A module imports only modules before it in the order ``core``,
``placeholders``, ``names``, ``providers``, ``plausible``, ``urls``, ``values``, ``arguments``. The
one recursion the other way (rule 5: a value that is a command line, whose flag values are judged
by rules 1-4) is a parameter: :func:`scan_value` and :func:`classify_variable` are the value rules
of :mod:`.values` given the command-line scanner of :mod:`.arguments`, which is where they live.

Pure standard library, no I/O, cheap to import: it runs in every Lambda cold start, and no regular
expression is compiled before it is first used. Nothing here ever logs or raises with a value; a
:class:`SecretMatch` carries only a redacted hint and a SHA-256 fingerprint.
"""

from .arguments import classify_variable, scan_arguments, scan_value
from .core import SecretMatch, fingerprint
from .placeholders import is_reference_or_placeholder

__all__ = [
    "SecretMatch",
    "classify_variable",
    "fingerprint",
    "is_reference_or_placeholder",
    "scan_arguments",
    "scan_value",
]
