"""Offline fixes for a broken Windows VM's OS disk, run on a Windows repair VM where a copy of it is attached.

Each script is PowerShell for Run Command (``RunPowerShellScript``, as SYSTEM). It brings the copy
online first: a copy of a disk made from the same image as the repair VM's carries the same disk
signature, and Windows keeps a disk whose signature collides offline (bringing it online gives it a
new one, and its volumes drive letters). It then finds the copy's Windows volume (the drive, other
than the repair VM's own system drive, holding ``\\Windows\\System32\\config\\SYSTEM``), saves the
SYSTEM hive beside itself, loads it as ``HKLM\\BROKENSYSTEM``, fixes it in every control set the
hive has (``ControlSet001``, and ``ControlSet002`` where an older Windows keeps one), and unloads it.
A ``reg`` that fails stops the script with its exit code::

    script = windows_fix_script("service_failure:rdp")

Fixes, with the values Microsoft's offline repairs set: ``service_failure:rdp`` — Remote Desktop
Services (TermService) back to its default start (Manual, 3: its triggers start it), account
(NetworkService) and type (16), as for "Remote Desktop Services isn't starting", and Remote Desktop
connections allowed again (``fDenyTSConnections`` 0); ``guest_network:dhcp_disabled`` — the DHCP
Client (Dhcp) back to Automatic (2), LocalService, type 16, as for "the DHCP Client service is
disabled" (``win-dhcp-fix`` of the repair script library); ``boot_failure:storage_driver`` — the
NVMe driver (stornvme) started at boot (Start 0, Type 1, ErrorControl 3, Group "SCSI miniport",
its ImagePath), the values of the library's ``win-enable-nvme-boot-driver``, for a VM resized to
an NVMe size that stops with INACCESSIBLE_BOOT_DEVICE; refused (exit 4) when the copy has no
``stornvme.sys``. A Group Policy that disabled a service applies again at its next refresh: change
the policy too.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kit.errors import UsageError

__all__ = ["WINDOWS_FINDINGS", "windows_fix_script"]

#: Finding kinds with an offline fix on a Windows repair VM, and what it does.
WINDOWS_FINDINGS = {
    "service_failure:rdp": "set Remote Desktop Services (TermService) back to its default start (Manual, "
                           "trigger-started) and allow Remote Desktop connections, in the copy's SYSTEM hive",
    "guest_network:dhcp_disabled": "set the DHCP Client (Dhcp) back to Automatic, in the copy's SYSTEM hive",
    "boot_failure:storage_driver": "start the NVMe driver (stornvme) at boot, in the copy's SYSTEM hive (an NVMe "
                                   "VM size needs it)",
}
#: What each fix sets under a control set: (key under it, value, type, data)
_VALUES = {
    "service_failure:rdp": (("Services\\TermService", "Start", "REG_DWORD", "3"),
                            ("Services\\TermService", "ObjectName", "REG_SZ", '"NT Authority\\NetworkService"'),
                            ("Services\\TermService", "Type", "REG_DWORD", "16"),
                            ("Control\\Terminal Server", "fDenyTSConnections", "REG_DWORD", "0")),
    "boot_failure:storage_driver": (("Services\\stornvme", "Start", "REG_DWORD", "0"),
                                    ("Services\\stornvme", "Type", "REG_DWORD", "1"),
                                    ("Services\\stornvme", "ErrorControl", "REG_DWORD", "3"),
                                    ("Services\\stornvme", "Group", "REG_SZ", '"SCSI miniport"'),
                                    ("Services\\stornvme", "ImagePath", "REG_EXPAND_SZ",
                                     '"system32\\drivers\\stornvme.sys"')),
    "guest_network:dhcp_disabled": (("Services\\Dhcp", "Start", "REG_DWORD", "2"),
                                    ("Services\\Dhcp", "ObjectName", "REG_SZ", '"NT Authority\\LocalService"'),
                                    ("Services\\Dhcp", "Type", "REG_DWORD", "16")),
}
#: What the disk must hold before a fix touches it (a boot driver whose file is missing stops every boot)
_PRECONDITIONS = {"boot_failure:storage_driver": (
    "if (-not (Test-Path \"${W}:\\Windows\\System32\\drivers\\stornvme.sys\")) { [Console]::Error.WriteLine("
    "'kit: the copy has no \\Windows\\System32\\drivers\\stornvme.sys: making a missing driver a boot driver "
    "stops every boot; nothing was changed (resize back to a SCSI size)'); exit 4 }\n",)}
_HIVE = "HKLM\\BROKENSYSTEM"
_CONTROL_SETS = ("ControlSet001", "ControlSet002")
_STOP_ON_FAILURE = "if ($LASTEXITCODE) { exit $LASTEXITCODE }"

_VOLUME = ('$W = Get-Volume | Where-Object { $_.DriveLetter -and "$($_.DriveLetter):" -ne $env:SystemDrive -and '
           '(Test-Path "$($_.DriveLetter):\\Windows\\System32\\config\\SYSTEM") } | Select-Object -First 1 '
           '-ExpandProperty DriveLetter')
_NO_VOLUME = ("if (-not $W) { [Console]::Error.WriteLine('kit: no attached volume holds "
              "\\Windows\\System32\\config\\SYSTEM: is the copy attached?'); exit 3 }")
_FIND = f"""\
$ErrorActionPreference = 'Stop'
# A copy of a disk made from this VM's image has its disk signature: Windows keeps such a disk offline. Online,
# it gets a new signature and its volumes drive letters.
Get-Disk | Where-Object IsOffline | Set-Disk -IsOffline $false
Get-Disk | Where-Object IsReadOnly | Set-Disk -IsReadOnly $false
# The copy's Windows volume: the one, other than this VM's own system drive, holding the SYSTEM hive. Windows
# mounts a disk's volumes a moment after it comes online: look again before giving up.
{_VOLUME}
if (-not $W) {{ Start-Sleep -Seconds 5; Update-HostStorageCache; {_VOLUME} }}
if (-not $W) {{ Start-Sleep -Seconds 20; Update-HostStorageCache; {_VOLUME} }}
{_NO_VOLUME}
Write-Output "kit: OS disk copy: Windows on ${{W}}:"
"""
_LOAD = """\
Copy-Item "${{W}}:\\Windows\\System32\\config\\SYSTEM" "${{W}}:\\Windows\\System32\\config\\SYSTEM.kit-{stamp}"
Write-Output "kit: the SYSTEM hive is saved as ${{W}}:\\Windows\\System32\\config\\SYSTEM.kit-{stamp}"
reg load {hive} "${{W}}:\\Windows\\System32\\config\\SYSTEM"
{stop}
"""
_UNLOAD = """\
# Nothing may hold the hive open when it is unloaded.
[gc]::Collect()
reg unload {hive}
{stop}
{note}Write-Output 'kit: fix applied; the hive is unloaded'
"""
#: The fixes that set a service back, which a Group Policy may have disabled (and disables again)
_SERVICE_FIXES = ("service_failure:rdp", "guest_network:dhcp_disabled")
_POLICY_NOTE = ("Write-Output 'kit: a Group Policy that disabled the service sets it again at its next refresh or "
                "boot: change it too'\n")


def windows_fix_script(finding_kind: str, *, stamp: str | None = None) -> str:
    """The PowerShell script that fixes ``finding_kind`` on the Windows OS disk copy attached to a repair VM.

    Raises
    ------
    UsageError
        A finding with no offline Windows fix.
    """
    if finding_kind not in WINDOWS_FINDINGS:
        raise UsageError(f"no offline Windows fix for {finding_kind!r}; the kit repairs Windows VMs for: "
                         f"{', '.join(WINDOWS_FINDINGS)} (or give your own PowerShell with --script FILE)")
    stamp = stamp or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [_FIND, *_PRECONDITIONS.get(finding_kind, ()), _LOAD.format(stamp=stamp, hive=_HIVE, stop=_STOP_ON_FAILURE)]
    values = _VALUES[finding_kind]
    for control_set in _CONTROL_SETS:
        lines.append(_in_control_set(control_set, [
            f'reg add "{_HIVE}\\{control_set}\\{key}" /v {name} /t {kind} /d {data} /f'
            for key, name, kind, data in values]))
    lines.append(f'reg query "{_HIVE}\\ControlSet001\\{values[0][0]}" /v Start\n')
    note = _POLICY_NOTE if finding_kind in _SERVICE_FIXES else ""
    lines.append(_UNLOAD.format(hive=_HIVE, stop=_STOP_ON_FAILURE, note=note))
    return "".join(lines)


def _in_control_set(control_set: str, commands: list[str]) -> str:
    """``commands`` on one line, run only when the hive has ``control_set``, each stopping the script if it fails."""
    body = "; ".join(f"{command}; {_STOP_ON_FAILURE}" for command in commands)
    test = f"Test-Path 'HKLM:\\BROKENSYSTEM\\{control_set}'"
    return f"if ({test}) {{ {body}; Write-Output 'kit: {control_set} fixed' }}\n"
