"""The tenant's directory objects (Microsoft Graph v1.0 ``directoryObject`` shape) for the story's principals."""

from __future__ import annotations

from typing import Any

__all__ = ["directory_objects"]


def _object(who: dict[str, Any]) -> dict[str, Any]:
    if who["kind"] == "user":
        return {"@odata.type": "#microsoft.graph.user", "id": who["oid"], "accountEnabled": True,
                "displayName": who["name"], "userPrincipalName": who["upn"], "mail": who["upn"]}
    if who["kind"] == "sp":
        return {"@odata.type": "#microsoft.graph.servicePrincipal", "id": who["oid"], "accountEnabled": True,
                "appId": who["appid"], "displayName": who["name"], "servicePrincipalType": "Application"}
    return {"@odata.type": "#microsoft.graph.group", "id": who["oid"], "displayName": who["name"],
            "securityEnabled": True, "mailEnabled": False}


def directory_objects(story: dict[str, Any]) -> dict[str, Any]:
    """``{"value": [directoryObject…]}``: every user, service principal and group the story names."""
    return {"value": [_object(who) for who in story["principals"].values()]}
