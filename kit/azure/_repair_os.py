"""What a repair VM is by the broken VM's OS: its image and its OS profile (Linux with a throwaway key,
Windows with a throwaway password that lives only in the create request).

Nobody logs in to a repair VM: the fix runs through Run Command, which needs no credential of its own.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

__all__ = ["WINDOWS_IMAGES", "os_profile", "windows_refusal"]

#: The Windows repair VM by the copy's Hyper-V generation: Windows Server 2022 Datacenter (it reads every
#: supported Windows's registry hives and boot files; ``-g2`` is its Generation 2 image)
WINDOWS_IMAGES = {"V1": ("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter"),
                  "V2": ("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-g2")}
_ADMIN = "kitrepair"
_SYMBOLS = "!#%*+-=?@^_"


def windows_refusal(name: str, architecture: str) -> str | None:
    """Why ``name``, a Windows VM, gets no repair VM (``None``: it does)."""
    if architecture.lower() == "arm64":
        return (f"{name} runs Windows on Arm64: Azure has no Windows Server image for an Arm64 repair VM. Use "
                "`az vm repair create` with a repair image you choose (--repair-vm-image), or fix it in place")
    return None


def os_profile(os_type: str, computer_name: str, stamp: str) -> dict[str, Any]:
    """The repair VM's ``osProfile``: its admin account with a credential nobody keeps."""
    if os_type.lower() == "windows":  # a Windows computer name has at most 15 characters
        return {"computerName": f"kitfix{stamp[-8:]}", "adminUsername": _ADMIN, "adminPassword": _throwaway_password(),
                "windowsConfiguration": {"provisionVMAgent": True, "enableAutomaticUpdates": False,
                                         "patchSettings": {"patchMode": "Manual"}}}
    return {"computerName": computer_name, "adminUsername": _ADMIN,
            "linuxConfiguration": {"disablePasswordAuthentication": True, "ssh": {"publicKeys": [
                {"path": f"/home/{_ADMIN}/.ssh/authorized_keys", "keyData": _throwaway_key()}]}}}


def _throwaway_password() -> str:
    """A password Azure accepts (12–123 characters, upper, lower, digit and symbol) that is never written down."""
    alphabet = string.ascii_letters + string.digits + _SYMBOLS
    chosen = [secrets.choice(string.ascii_uppercase), secrets.choice(string.ascii_lowercase),
              secrets.choice(string.digits), secrets.choice(_SYMBOLS)]
    chosen += [secrets.choice(alphabet) for _ in range(28)]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen)


def _throwaway_key() -> str:
    """An SSH public key whose private half is never kept."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + \
        " kit-repair-unused"
