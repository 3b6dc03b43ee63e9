"""Notebook parameters: convert CLI strings, refuse anything that looks like a secret.

A report's parameters are written into the executed notebook and into the archive manifest,
so a secret passed as a parameter would be on disk for good. The kit refuses them instead:
credentials come from the environment (``AzureTarget`` credential kinds), never from
parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kit.azure.choices import CREDENTIAL_KINDS
from kit.errors import SecretParameterError, UsageError

__all__ = ["check_parameters", "convert_value", "looks_like_secret"]

#: Parameter-name fragments that mark a secret.
_SECRET_NAME_PARTS = ("token", "password", "passwd", "secret", "key", "sas", "credential")

#: The one secret-sounding parameter that is allowed: the *kind* of credential, by name.
_ALLOWED_NAMES = {"credential": frozenset(CREDENTIAL_KINDS)}

_SECRET_VALUES = (
    ("a JSON Web Token", re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
    ("a SAS signature (sig=)", re.compile(r"(?:^|[?&\s])sig=[^&\s]+", re.IGNORECASE)),
    ("a PEM key or certificate", re.compile(r"-----BEGIN [A-Z0-9 ]*(?:PRIVATE KEY|CERTIFICATE)-----")),
    ("a bearer token", re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=-]{16,}", re.IGNORECASE)),
    ("a storage account key", re.compile(r"(?:AccountKey|SharedAccessKey)=", re.IGNORECASE)),
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def looks_like_secret(value: Any) -> str | None:
    """Say what kind of secret ``value`` looks like, or ``None``.

    Parameters
    ----------
    value
        A parameter value; strings are checked, lists and dicts recursively.
    """
    if isinstance(value, str):
        for what, pattern in _SECRET_VALUES:
            if pattern.search(value):
                return what
        return None
    if isinstance(value, Mapping):
        return next((w for w in map(looks_like_secret, [*value.keys(), *value.values()]) if w), None)
    if isinstance(value, list | tuple | set | frozenset):
        return next((w for w in map(looks_like_secret, value) if w), None)
    return None


def check_parameters(parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return a plain copy of ``parameters`` or raise when one looks like a secret.

    Parameters
    ----------
    parameters
        Name → value, as given to :func:`kit.report.run_report`.

    Raises
    ------
    SecretParameterError
        A name contains token/password/secret/key/sas/credential (except ``credential``
        naming a credential kind), or a value looks like a JWT, a SAS ``sig=``, a PEM key.
        The message names the parameter, never the value.
    UsageError
        A name is not a Python identifier.
    """
    checked: dict[str, Any] = {}
    for name, value in (parameters or {}).items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise UsageError(f"parameter name {name!r} is not a Python identifier")
        lowered = name.lower()
        allowed = _ALLOWED_NAMES.get(lowered)
        if allowed is not None:
            if value not in allowed:
                raise SecretParameterError(
                    f"parameter {name!r} must name a credential kind ({', '.join(sorted(allowed))}), "
                    "not hold a credential; the kit reads secrets from the environment only"
                )
        elif any(part in lowered for part in _SECRET_NAME_PARTS):
            raise SecretParameterError(
                f"refusing parameter {name!r}: its name says it holds a secret, and parameters are "
                "written into the report and the archive; put credentials in the environment "
                "(e.g. credential=env-token with KIT_ARM_TOKEN) instead"
            )
        what = looks_like_secret(value)
        if what:
            raise SecretParameterError(
                f"refusing parameter {name!r}: its value looks like {what}, and parameters are "
                "written into the report and the archive; pass secrets through the environment"
            )
        checked[name] = value
    return checked


def convert_value(text: str) -> Any:
    """Turn a CLI ``-p name value`` string into a Python value (int, float, bool, None, str).

    Parameters
    ----------
    text
        The value as typed.
    """
    lowered = text.strip().lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered in {"none", "null"}:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
