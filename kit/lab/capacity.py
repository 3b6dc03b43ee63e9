"""VM sizes a region cannot give: out of capacity, or past the subscription's vCPU quota.

Azure refuses such a VM PUT at once with 409 and no VM is created (texts as Azure writes them):

- ``SkuNotAvailable``: "The requested VM size for resource 'Following SKUs have failed for Capacity
  Restrictions: Standard_D2s_v5' is currently not available in location 'eastus'. …";
- ``OperationNotAllowed``: "Operation could not be completed as it results in exceeding approved
  standardDSv5Family Cores quota. …" (a family's quota: another family may still fit), or "…
  exceeding approved Total Regional Cores quota. …" (every size counts against it).

:func:`restrict_size` makes a size fail so in the lab; :func:`size_refusal` is the answer a VM PUT gets.

A deallocated VM gives its place on a host up, and starting it again needs room for its size: when
the region (or its zone) has none, the start's operation ends ``Failed`` with ``AllocationFailed``
("Allocation failed. We do not have sufficient capacity for the requested VM size in this region.
…") or ``ZonalAllocationFailed``, and the VM stays deallocated. :func:`refuse_start` makes the next
starts of a VM fail so; :func:`start_refusal` is the error its operation ends with.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web

from kit.lab._arm import arm_error
from kit.lab._state import LabState

__all__ = ["Restriction", "refuse_start", "restrict_size", "size_refusal", "start_refusal"]

Restriction = Literal["capacity", "family-quota", "regional-quota"]
_KEY = "restricted_vm_sizes"
_STARTS = "refused_starts"
_FAMILIES = {"standard_d2s_v5": "standardDSv5Family", "standard_d2as_v5": "standardDASv5Family",
             "standard_d2s_v4": "standardDSv4Family", "standard_d2s_v3": "standardDSv3Family",
             "standard_d2ps_v5": "standardDPSv5Family", "standard_d2pls_v5": "standardDPLSv5Family"}


def restrict_size(state: LabState, size: str, why: Restriction) -> None:
    """Make every later VM PUT of ``size`` fail as Azure fails it for ``why``."""
    restrictions: dict[str, Restriction] = state.extras.setdefault(_KEY, {})
    restrictions[size.lower()] = why


def size_refusal(state: LabState, size: str, location: str) -> web.Response | None:
    """The 409 a VM PUT of ``size`` in ``location`` gets, or ``None`` when the size is there to have."""
    why = state.extras.get(_KEY, {}).get(size.lower())
    if why is None:
        return None
    if why == "capacity":
        return arm_error(409, "SkuNotAvailable", f"The requested VM size for resource 'Following SKUs have failed "
                                                 f"for Capacity Restrictions: {size}' is currently not available in "
                                                 f"location '{location}'. Please try another size or deploy to a "
                                                 "different location or different zone. See "
                                                 "https://aka.ms/azureskunotavailable for details.")
    quota = "Total Regional Cores" if why == "regional-quota" else \
        f"{_FAMILIES.get(size.lower(), 'standardDSv5Family')} Cores"
    return arm_error(409, "OperationNotAllowed", f"Operation could not be completed as it results in exceeding "
                                                 f"approved {quota} quota. Additional details - Deployment Model: "
                                                 f"Resource Manager, Location: {location}, Current Limit: 10, "
                                                 "Current Usage: 10, Additional Required: 2, (Minimum) New Limit "
                                                 "Required: 12. Submit a request for Quota increase at "
                                                 "https://aka.ms/ProdportalCRP by specifying parameters listed in "
                                                 "the 'Details' section for deployment to succeed.")


def refuse_start(state: LabState, vm_id: str, times: int = 1) -> None:
    """Make the next ``times`` starts of ``vm_id`` fail for want of room for its size (its zone's, if it has one)."""
    state.extras.setdefault(_STARTS, {})[vm_id.lower()] = times


def start_refusal(state: LabState, vm: dict[str, Any]) -> dict[str, str] | None:
    """The ARM error a start of ``vm`` ends with (one refusal used up), or ``None`` when there is room."""
    refused: dict[str, int] = state.extras.get(_STARTS, {})
    key = str(vm["id"]).lower()
    if refused.get(key, 0) <= 0:
        return None
    refused[key] -= 1
    where = "zone" if vm.get("zones") else "region"
    return {"code": "ZonalAllocationFailed" if vm.get("zones") else "AllocationFailed",
            "message": f"Allocation failed. We do not have sufficient capacity for the requested VM size in this "
                       f"{where}. Read more about improving likelihood of allocation success at "
                       "http://aka.ms/allocation-guidance"}
