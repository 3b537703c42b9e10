"""Output formats, each a pure function of models (never an AWS call, never a flow):

* :mod:`.sns`: the SNS notification (subject, text for people, JSON for machines, attributes);
* :mod:`.sarif`: SARIF 2.1.0 for code scanning (``ecsguard scan --format sarif``);
* :mod:`.terminal`: what ``ecsguard scan`` and ``ecsguard deliver`` print.
"""
