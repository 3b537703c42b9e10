"""Security Hub reads: the findings ecsguard imported earlier that are still ACTIVE (``GetFindings``).

The writes (``BatchImportFindings``, ``BatchUpdateFindings``) are in :mod:`ecsguard.aws.actions`; what to
import or archive is decided in :mod:`ecsguard.flows.securityhub`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from .clients import Clients

# GetFindings allows up to 100 findings a page (the API reference's MaxResults range is 1..100).
PAGE_SIZE = 100
# GetFindings filters take at most 20 values for one attribute (API reference, AwsSecurityFindingFilters).
FILTER_VALUES_LIMIT = 20


def active_findings(
    clients: Clients,
    region: str,
    *,
    product_arn: str,
    generator_prefix: str,
    resource_ids: Iterable[str] | None = None,
    calls: Counter[str] | None = None,
) -> list[dict[str, Any]]:
    """Every ACTIVE finding of ``product_arn`` whose GeneratorId starts with ``generator_prefix``.

    ``resource_ids`` narrows the read to the findings of those resources (the registration flow reads one
    definition's); None reads them all (the sweep). ``calls`` counts the GetFindings requests. The same filters are applied to the answer as well, so a
    service (or a test double) that ignores a filter still yields only ecsguard's findings.
    """
    ids = sorted(set(resource_ids)) if resource_ids is not None else None
    if ids is not None and not ids:
        return []
    chunks = [ids[i : i + FILTER_VALUES_LIMIT] for i in range(0, len(ids), FILTER_VALUES_LIMIT)] if ids else [None]
    paginator = clients("securityhub", region).get_paginator("get_findings")
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks:
        filters: dict[str, Any] = {
            "ProductArn": [{"Value": product_arn, "Comparison": "EQUALS"}],
            "GeneratorId": [{"Value": generator_prefix, "Comparison": "PREFIX"}],
            "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
        }
        if chunk:
            filters["ResourceId"] = [{"Value": arn, "Comparison": "EQUALS"} for arn in chunk]
        wanted = set(chunk) if chunk else None
        for page in paginator.paginate(Filters=filters, PaginationConfig={"PageSize": PAGE_SIZE}):
            if calls is not None:
                calls["GetFindings"] += 1
            for finding in page.get("Findings", []):
                if (
                    finding.get("ProductArn") == product_arn
                    and str(finding.get("GeneratorId", "")).startswith(generator_prefix)
                    and finding.get("RecordState", "ACTIVE") == "ACTIVE"
                    and (wanted is None or any(r.get("Id") in wanted for r in finding.get("Resources", [])))
                ):
                    found[finding["Id"]] = finding
    return list(found.values())
