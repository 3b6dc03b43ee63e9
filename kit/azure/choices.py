"""The values a person picks when pointing the kit at Azure: clouds and credential kinds.

Imports nothing, so the command line and report parameters can check them without loading
the SDK (:mod:`kit.azure.target` and :mod:`kit.azure.credentials` use the same tuples).
"""

from __future__ import annotations

__all__ = ["CLOUD_NAMES", "CREDENTIAL_KINDS"]

#: The public clouds, by the name ``az cloud list`` gives them.
CLOUD_NAMES = ("AzureCloud", "AzureUSGovernment", "AzureChinaCloud")

#: How the kit authenticates: ``default`` (DefaultAzureCredential), ``cli`` (``az login``),
#: ``managed-identity``, or ``env-token`` (a pre-issued token read from an environment variable).
CREDENTIAL_KINDS = ("default", "cli", "managed-identity", "env-token")
