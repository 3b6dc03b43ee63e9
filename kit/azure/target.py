"""Where the kit connects: ARM endpoint, cloud, CA bundle and credential kind.

One :class:`AzureTarget` describes real Azure (any of the three public clouds), an Azure
Stack Hub or a TLS-inspecting proxy (``arm_endpoint`` + ``ca_bundle``) and the lab
(:meth:`AzureTarget.for_lab`) alike; :meth:`AzureTarget.client_kwargs` turns it into the
keyword arguments every ``azure.mgmt.*`` client takes, so there is one code path.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from kit.azure.choices import CREDENTIAL_KINDS
from kit.azure.credentials import async_credential, sync_credential
from kit.errors import UsageError

__all__ = ["CLOUDS", "AzureTarget", "Cloud", "LabAddress", "RetrySettings", "check_ca_bundle"]

_MAX_RETRIES = 50
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+\]?")
_PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


def check_ca_bundle(path: str | Path) -> Path:
    """The path of a readable file holding a PEM certificate block; UsageError otherwise.

    A file that is not PEM (DER, a key, text, empty) would otherwise make every call fail its
    TLS handshake, one recorded failure per call and exit 0, instead of one clear message first.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise UsageError(f"CA bundle {str(file)!r} does not exist or is not a file (give a PEM file)")
    try:
        data = file.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read the CA bundle {str(file)!r}: {error.strerror or error}") from None
    if _PEM_CERTIFICATE not in data:
        raise UsageError(f"CA bundle {str(file)!r} holds no PEM certificate ('{_PEM_CERTIFICATE.decode()}'); "
                         "give the CA certificates in PEM form (openssl x509 -inform der -in CA.der -out CA.pem)")
    return file


def _https_url(endpoint: str, what: str, example: str) -> str:
    """``endpoint`` without a trailing slash; UsageError unless it is a plain https:// URL."""
    endpoint = endpoint.rstrip("/")
    try:
        parts = urlsplit(endpoint)
        port_ok = parts.port is None or parts.port > 0  # a port outside 0-65535 raises ValueError
    except ValueError:  # also a malformed [IPv6] host
        raise UsageError(f"{what} {endpoint!r} must be an https:// URL such as {example}") from None
    if (parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment or not port_ok
            or parts.username is not None or not _HOST.fullmatch(parts.hostname or "")):
        raise UsageError(f"{what} {endpoint!r} must be an https:// URL such as {example}")
    return endpoint


class LabAddress(Protocol):
    """What :meth:`AzureTarget.for_lab` needs of a running lab (``kit.lab.RunningLab`` has it)."""

    @property
    def endpoint(self) -> str: ...

    @property
    def ca_path(self) -> Path: ...

    @property
    def token(self) -> str: ...


@dataclass(frozen=True)
class Cloud:
    """A public Azure cloud: its ARM endpoint, token scope, Entra ID authority host and Microsoft Graph endpoint."""

    name: str
    arm_endpoint: str
    scope: str
    authority: str
    graph_endpoint: str


CLOUDS: dict[str, Cloud] = {
    "AzureCloud": Cloud("AzureCloud", "https://management.azure.com",
                        "https://management.azure.com/.default", "login.microsoftonline.com",
                        "https://graph.microsoft.com"),
    "AzureUSGovernment": Cloud("AzureUSGovernment", "https://management.usgovcloudapi.net",
                               "https://management.core.usgovcloudapi.net/.default", "login.microsoftonline.us",
                               "https://graph.microsoft.us"),
    "AzureChinaCloud": Cloud("AzureChinaCloud", "https://management.chinacloudapi.cn",
                             "https://management.chinacloudapi.cn/.default", "login.chinacloudapi.cn",
                             "https://microsoftgraph.chinacloudapi.cn"),
}


@dataclass(frozen=True)
class RetrySettings:
    """Retry and timeout settings handed to azure-core's retry policy and transport.

    Parameters
    ----------
    total
        Retries per call (``retry_total``); ``Retry-After`` is always honoured.
    backoff_factor
        Exponential backoff factor in seconds (``retry_backoff_factor``).
    backoff_max
        Longest sleep between two tries (``retry_backoff_max``).
    connection_timeout
        Seconds to open a connection (``connection_timeout``).
    read_timeout
        Seconds to wait for a response (``read_timeout``), per try.
    deadline
        Seconds one call may take in all (tries, backoff, long-running-operation polling)
        before it is recorded as failed; not an SDK setting, the collector enforces it.
    """

    total: int = 5
    backoff_factor: float = 0.8
    backoff_max: float = 30.0
    connection_timeout: float = 20.0
    read_timeout: float = 60.0
    deadline: float = 600.0

    def __post_init__(self) -> None:
        """Refuse what cannot be waited for: every value finite and in range (UsageError otherwise)."""
        if isinstance(self.total, bool) or not isinstance(self.total, int) or not 0 <= self.total <= _MAX_RETRIES:
            raise UsageError(f"retries must be a whole number from 0 to {_MAX_RETRIES}, got {self.total!r}")
        for name, longest, zero_ok in (("backoff_factor", 60.0, True), ("backoff_max", 600.0, True),
                                       ("connection_timeout", 3600.0, False), ("read_timeout", 3600.0, False),
                                       ("deadline", 86400.0, False)):
            value = getattr(self, name)
            low_ok = value >= 0 if zero_ok else value > 0
            if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                    or not low_ok or value > longest):
                low = "0" if zero_ok else "more than 0"
                raise UsageError(f"{name.replace('_', ' ')} must be a number of seconds from {low} to {longest:g}, "
                                 f"got {value!r}")

    def as_kwargs(self) -> dict[str, Any]:
        """The azure-core keyword arguments."""
        return {
            "retry_total": self.total,
            "retry_backoff_factor": self.backoff_factor,
            "retry_backoff_max": self.backoff_max,
            "connection_timeout": self.connection_timeout,
            "read_timeout": self.read_timeout,
        }


@dataclass(frozen=True)
class AzureTarget:
    """An ARM endpoint and how to authenticate to it.

    Parameters
    ----------
    arm_endpoint
        ARM base URL without trailing slash; defaults to the cloud's endpoint.
    cloud
        ``AzureCloud``, ``AzureUSGovernment`` or ``AzureChinaCloud``: sets the default endpoint,
        the token scope and the credential authority.
    credential
        ``default``, ``cli``, ``managed-identity`` or ``env-token``.
    ca_bundle
        A PEM file of the CAs to trust for HTTPS (Azure Stack Hub, a TLS-inspecting proxy, the
        lab); it replaces the system store for the kit's calls. TLS is always verified.
    token_env
        The variable ``env-token`` reads the bearer token from.
    retry
        Retry and timeout settings.
    token
        For ``env-token``: the token itself, held in this object only (a running lab's, set by
        :meth:`for_lab`); never shown by ``repr`` and never written anywhere.
    graph_endpoint
        Microsoft Graph base URL (display names of Activity Log callers); defaults to the cloud's.
    """

    arm_endpoint: str = ""
    cloud: str = "AzureCloud"
    credential: str = "default"
    ca_bundle: Path | None = None
    token_env: str = "KIT_ARM_TOKEN"
    retry: RetrySettings = field(default_factory=RetrySettings)
    token: str | None = field(default=None, repr=False, compare=False)
    graph_endpoint: str = ""

    def __post_init__(self) -> None:
        if self.cloud not in CLOUDS:
            raise UsageError(f"unknown cloud {self.cloud!r}: choose one of {', '.join(CLOUDS)}")
        if self.credential not in CREDENTIAL_KINDS:
            raise UsageError(f"unknown credential {self.credential!r}: choose one of {', '.join(CREDENTIAL_KINDS)}")
        if self.token is not None and self.credential != "env-token":
            raise UsageError("a token held in the target is only used by the 'env-token' credential")
        cloud = CLOUDS[self.cloud]
        object.__setattr__(self, "arm_endpoint", _https_url(self.arm_endpoint or cloud.arm_endpoint, "ARM endpoint",
                                                            cloud.arm_endpoint))
        object.__setattr__(self, "graph_endpoint", _https_url(self.graph_endpoint or cloud.graph_endpoint,
                                                              "Graph endpoint", cloud.graph_endpoint))
        if self.ca_bundle is not None:
            object.__setattr__(self, "ca_bundle", check_ca_bundle(self.ca_bundle))

    @classmethod
    def for_lab(cls, lab: LabAddress, *, retry: RetrySettings | None = None) -> AzureTarget:
        """Point at a running lab: its endpoint, its CA, and its token held in the target.

        Nothing is written to the environment or to disk: the token lives as long as this object.
        """
        return cls(arm_endpoint=lab.endpoint, credential="env-token", ca_bundle=Path(lab.ca_path),
                   retry=retry or RetrySettings(), token=lab.token, graph_endpoint=lab.endpoint)

    @property
    def is_public_cloud(self) -> bool:
        """Whether the endpoint is the cloud's own ARM endpoint."""
        return self.arm_endpoint == CLOUDS[self.cloud].arm_endpoint

    @property
    def scope(self) -> str:
        """The token scope: the cloud's ARM scope, or ``<endpoint>/.default`` for custom endpoints."""
        return CLOUDS[self.cloud].scope if self.is_public_cloud else f"{self.arm_endpoint}/.default"

    @property
    def asks_graph(self) -> bool:
        """Whether to look up display names in Microsoft Graph: not with a pre-issued ARM token
        (``env-token``: it is no Graph token, and goes nowhere but ARM), unless Graph is served at the ARM
        endpoint (the lab)."""
        return self.credential != "env-token" or self.graph_endpoint == self.arm_endpoint

    @property
    def graph_scope(self) -> str:
        """The token scope for Microsoft Graph: ``<graph endpoint>/.default``."""
        return f"{self.graph_endpoint}/.default"

    @property
    def connection_verify(self) -> str | bool:
        """What azure-core's transport verifies TLS against: the CA path, or the system store."""
        return str(self.ca_bundle) if self.ca_bundle is not None else True

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for any ``azure.mgmt`` client (besides credential and subscription)."""
        return {
            "base_url": self.arm_endpoint,
            "credential_scopes": [self.scope],
            "connection_verify": self.connection_verify,
            **self.retry.as_kwargs(),
        }

    def async_credential(self) -> Any:
        """A new async credential for this target (close it when done)."""
        return async_credential(self.credential, authority=CLOUDS[self.cloud].authority, token_env=self.token_env,
                                token=self.token)

    def sync_credential(self) -> Any:
        """A new blocking credential for this target."""
        return sync_credential(self.credential, authority=CLOUDS[self.cloud].authority, token_env=self.token_env,
                               token=self.token)
