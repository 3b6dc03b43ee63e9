"""Windows RDP: a hardening GPO piloted on one OU set Remote Desktop Services (TermService) to
Disabled. Nothing in ARM records a GPO; after the 03:14 Windows Update reboot nothing listens on
3389. The admin restarted the VM from the portal, then looked from SAC (the cmd channel's screen is
in the serial log: TermService stopped, net start fails with error 1058) and ran a Run Command."""

from typing import Any

from kit.lab.scenarios._render.stories._helpers import (
    MONITOR_AGENT_WIN,
    after,
    reboot_health,
    restore_points,
    running_view,
    sp,
    user,
)

__all__ = ["STORY"]

SUB = "7b3e0d52-8c19-4a6f-9e27-1d4c6b8f0a95"
TENANT = "4f6a2c81-b9d3-4e07-a5f2-8c1e7d3b9a60"
RG = "rg-claims-app-prod"
WU_REBOOT = {"claims-app-01": "2026-11-25T03:14:22.000Z", "claims-app-02": "2026-11-25T03:21:05.000Z",
             "claims-app-03": "2026-11-25T03:27:49.000Z"}
ADMIN_RESTART = "2026-11-25T08:20:14.336Z"


# About 08:33 UTC, after the restart did not help, the admin had a look from the serial console.
ADMIN_SAC_SESSION = [
    {"kind": "typed", "command": "cmd", "output": ["The Command Prompt session was successfully launched."]},
    {"kind": "channel", "channel": "Cmd0001"},
    {"kind": "typed", "command": "ch -si 1", "output": []},
    {"kind": "channel_output", "lines": [
        "\x1b[2J\x1b[0;0HName:                  Cmd0001",
        "Description:           Command",
        "Type:                  VT-UTF8",
        "Channel GUID:          5f2c8e41-0b7d-11f1-9a3c-000d3a4f7e21",
        "Application Type GUID: 63d02271-8aa4-11d5-bccf-00b0d014a2d0",
        "",
        "Press <esc><tab> for next channel.",
        "Press <esc><tab>0 to return to the SAC channel.",
        "Use any other key to view this channel.",
        "",
        "",
        "Please enter login credentials.",
        "Username: azureadmin",
        "Domain  : claims-app-01",
        "Password: ",
        "",
        "Microsoft Windows [Version 10.0.20348.2849]",
        "(c) Microsoft Corporation. All rights reserved.",
        "",
        "C:\\Windows\\system32>sc query TermService",
        "",
        "SERVICE_NAME: TermService",
        "        TYPE               : 20  WIN32_SHARE_PROCESS",
        "        STATE              : 1  STOPPED",
        "        WIN32_EXIT_CODE    : 1077  (0x435)",
        "        SERVICE_EXIT_CODE  : 0  (0x0)",
        "        CHECKPOINT         : 0x0",
        "        WAIT_HINT          : 0x0",
        "",
        "C:\\Windows\\system32>powershell -NoProfile -Command \"Get-Service TermService\"",
        "",
        "Status   Name               DisplayName",
        "------   ----               -----------",
        "Stopped  TermService        Remote Desktop Services",
        "",
        "",
        "C:\\Windows\\system32>net start TermService",
        "System error 1058 has occurred.",
        "",
        "The service cannot be started, either because it is disabled or because it has no enabled devices associated with it.",
        "",
        "",
        "C:\\Windows\\system32>exit",
    ]},
    {"kind": "channel_closed", "channel": "Cmd0001"},
]


def _win(name: str, ip: str, zone: str, created: str, view: dict[str, Any], *, restarted: bool = False,
         **kw: Any) -> dict[str, Any]:
    # The blob starts with the boot after the Windows Update restart (SAC lines carry no dates).
    boots: list[dict[str, Any]] = [{"at": after(WU_REBOOT[name], 24.0)}]
    if restarted:
        boots[-1]["end"] = {"at": after(ADMIN_RESTART, 3.0), "how": "reboot"}
        boots.append({"at": after(ADMIN_RESTART, 41.0), "events": ADMIN_SAC_SESSION})
    vm: dict[str, Any] = {"name": name, "ip": ip, "subnet": "snet-claims-app", "size": "Standard_D4s_v5", "image": "win2022",
          "created": created, "zone": zone, "admin": "azureadmin", "boots": boots, "view": view,
          "extensions": [MONITOR_AGENT_WIN], "asgs": ["asg-claims-app"], "data_disks": [
              {"lun": 0, "name": f"{name}-data", "size_gb": 512}]}
    vm.update(kw)
    return vm


STORY = {
    "name": "windows-rdp",
    "title": "Claims application server refuses RDP after the overnight updates",
    "briefing": ("Since the start of the business day (about 07:50 UTC on 25 Nov 2026) nobody can RDP to "
                 "claims-app-01; the client reports that it cannot connect to the remote computer. The other "
                 "claims servers accept RDP. An admin restarted the VM at 08:20 UTC; no change."),
    "subscription_id": SUB, "tenant_id": TENANT, "resource_group": RG, "location": "francecentral",
    "broken_vm": "claims-app-01", "known_good": ["claims-app-02", "claims-app-03"],
    "responder_ip": "203.0.113.7",
    "window": {"start": "2026-11-24T12:00:00Z", "end": "2026-11-25T09:30:00Z"},
    "console_enabled": True,
    "expected": {"hypothesis": "service_failure:rdp", "next_step": "serial_console", "level": "guest"},
    "guest": {"os": "windows", "username": "azureadmin", "password": "Lab-Only-Pa55!"},
    "fix": ("From SAC, open a cmd channel, run 'sc config TermService start= demand' and 'net start TermService', "
            "then take claims-app-01 out of the pilot OU of GPO MI-Server-Hardening-Pilot."),
    "facts": {
        "service": "TermService", "display_name": "Remote Desktop Services", "start_type": "Disabled",
        "port": 3389, "gpo": "MI-Server-Hardening-Pilot", "gpo_ou": "OU=Pilot,OU=Servers,DC=meridian,DC=local",
        "gpo_linked_at": "2026-11-24T17:30:00Z", "arm_record_of_gpo": False,
        "windows_update_reboot_at": WU_REBOOT["claims-app-01"][:19] + "Z",
        "admin_restart_at": ADMIN_RESTART[:19] + "Z",
        "run_command_at": "2026-11-25T08:41:33Z",
        "nsg_allows_rdp_from": "203.0.113.0/24",
        "earlier_sac_session": "about 08:33 UTC the admin ran sc query / Get-Service / net start TermService in channel Cmd0001 (in the serial log)",
        "net_start_error": "System error 1058",
    },
    "tags": {"app": "claims", "env": "prod", "owner": "claims-it", "patch-ring": "ring1"},
    "dns_zone": "px",
    "management_group": "mg-meridian-prod",
    "principals": {
        "admin": user("samuel.adeyemi@meridian-ins.com", "Samuel Adeyemi", "203.0.113.7"),
        "pipeline": sp("sp-claims-release", "d3a7f0c2-18e5-4b96-8c4d-52e9b1a7f063", "20.74.30.15"),
        "backup": sp("Backup Management Service", "262044b1-e2ce-469f-a196-69ab7ada62d3", "20.19.112.4"),
        "finance": user("cloud-costs@meridian-ins.com", "Cloud Costs", "203.0.113.90"),
    },
    "role_assignments": [
        {"who": "admin", "role": "Virtual Machine Contributor", "scope": "rg", "created": "2025-01-07T08:50:31.5Z", "by": "admin"},
        {"who": "admin", "role": "Virtual Machine Administrator Login", "scope": "rg", "created": "2025-01-07T08:51:02.2Z", "by": "admin"},
        {"who": "pipeline", "role": "Contributor", "scope": "rg", "created": "2024-10-22T14:18:44.9Z", "by": "admin"},
        {"who": "finance", "role": "Reader", "scope": "sub", "created": "2024-03-15T10:00:05.0Z", "by": "admin"},
    ],
    "network": {
        "vnet": {"name": "vnet-claims-prod", "address_space": ["10.50.0.0/16"], "dns_servers": ["10.50.0.4", "10.50.0.5"], "subnets": [
            {"name": "snet-identity", "prefix": "10.50.0.0/27", "nsg": "nsg-snet-identity"},
            {"name": "snet-claims-app", "prefix": "10.50.3.0/24", "nsg": "nsg-snet-claims-app"},
        ]},
        "asgs": ["asg-claims-app"],
        "nsgs": [
            {"name": "nsg-snet-claims-app", "rules": [
                {"name": "Allow-RDP-Corp", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": "203.0.113.0/24", "dst_asgs": ["asg-claims-app"], "dst_port": "3389"},
                {"name": "Allow-HTTPS-Corp", "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": ["203.0.113.0/24", "10.50.0.0/16"], "dst": "*", "dst_port": ["443", "8443"]},
                {"name": "Deny-SMB-Inbound", "priority": 300, "direction": "Inbound", "access": "Deny", "protocol": "Tcp",
                 "src": "*", "dst": "*", "dst_port": "445"},
            ]},
            {"name": "nsg-snet-identity", "rules": [
                {"name": "Allow-AD-From-VNet", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "*",
                 "src": "VirtualNetwork", "dst": "10.50.0.0/27", "dst_port": ["53", "88", "135", "389", "445", "464", "636", "3268-3269", "49152-65535"]},
            ]},
        ],
    },
    "vms": [
        _win("claims-app-01", "10.50.3.10", "1", "2024-10-22T14:40:19.6628105Z",
             running_view("2026-11-25T09:12:40Z", "2026-11-25T08:21:52.3370441Z", "2026-11-25T08:20:30.1185530Z"),
             restarted=True, public_ip="20.74.12.201", dns_servers=[]),
        _win("claims-app-02", "10.50.3.11", "2", "2024-10-22T14:40:21.0914462Z",
             running_view("2026-11-25T09:12:18Z", "2026-11-25T03:22:31.8804127Z", "2026-11-25T03:21:20.4471198Z"),
             public_ip="20.74.12.207"),
        _win("claims-app-03", "10.50.3.12", "3", "2024-10-22T14:40:20.3350871Z",
             running_view("2026-11-25T09:13:01Z", "2026-11-25T03:29:09.6601935Z", "2026-11-25T03:28:04.9926213Z")),
    ],
    "activity": [
        *restore_points(["claims-app-01", "claims-app-02", "claims-app-03"], "2026-11-24T20:00:22.781Z", rg="AzureBackupRG_francecentral_1"),
        {"at": "2026-11-24T13:44:51.207Z", "op": "tags_write", "by": "finance", "resource": "Microsoft.Resources/tags/default"},
        {"at": "2026-11-24T16:05:30.664Z", "op": "deployment_write", "by": "pipeline", "rg": "rg-claims-web-prod",
         "resource": "Microsoft.Resources/deployments/claims-portal-24.11.3", "took": 131},
        {"at": "2026-11-24T16:07:12.018Z", "op": "storage_listkeys", "by": "pipeline", "rg": "rg-claims-web-prod",
         "resource": "Microsoft.Storage/storageAccounts/stclaimsportal"},
        {"at": ADMIN_RESTART, "op": "vm_restart", "vm": "claims-app-01", "by": "admin", "took": 97},
        {"at": "2026-11-25T08:41:33.905Z", "op": "vm_runcommand", "vm": "claims-app-01", "by": "admin", "took": 52},
    ],
    "resource_health": [reboot_health("claims-app-01", "2026-11-25T08:20:19.447Z", "2026-11-25T08:22:05.193Z")],
}
