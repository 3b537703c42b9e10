"""Generators of the labeled secret sets that ``benchmarks/secrets.py`` reads (all values synthetic).

Each module writes one ``tests/data/secrets_*.jsonl`` file, seeded and reproducible, and has a
``--check`` mode that the tests run so a stale file fails the build:

* :mod:`.corpus`: ``secrets_corpus.jsonl`` (the main set) and the in-memory holdout section;
* :mod:`.independent`: ``secrets_independent.jsonl`` (red team written before reading the rules);
* :mod:`.styles`: ``secrets_styles.jsonl`` (naming styles, value encodings, tool arguments);
* :mod:`.log_options`: ``secrets_log_options.jsonl`` (log-driver and FireLens options).
"""
