"""Case study 03: the game studio's build coordinator stops accepting SSH after an agent update.

During launch week the studio's build-agent 4.2.1 was rolled out through its CustomScript
extension. On the coordinator it rewrote /etc/ssh/sshd_config.d/50-cloud-init.conf with a
misspelt keyword on line 3; the agent's sshd restart failed silently. The on-call engineer restarted
the VM at 06:52, and the boot shows ssh.service failing. The workers got the worker template and
are fine; NSG and routes are unchanged.
"""

from typing import Any

from kit.lab.scenarios._render.stories._helpers import (
    MONITOR_AGENT,
    after,
    boot_chain,
    linux_vm,
    reboot_health,
    restart,
    restore_points,
    sp,
    user,
)

__all__ = ["STORY"]

SUB = "8f2b6d1c-3e49-4a7f-9c05-d4e1a8b7f236"
TENANT = "2d9e5f17-8a4c-4b61-b3f0-7c2a1e9d5b48"
RG = "rg-buildfarm-prod"
BAD = {"file": "/etc/ssh/sshd_config.d/50-cloud-init.conf", "line": 3, "option": "StreamLocalBindUnlnk"}
BUILD_AGENT = {"name": "BuildAgent", "publisher": "Microsoft.Azure.Extensions", "type": "CustomScript",
               "version": "2.1", "handler_version": "2.1.10", "message": "Enable succeeded: build-agent 4.2.1 installed"}

WEEKLY = {"build-coord-01": "2026-11-24T03:30:05.412Z", "build-worker-01": "2026-11-24T03:34:40.093Z",
          "build-worker-02": "2026-11-24T03:39:12.655Z"}
EXT = {"build-coord-01": "2026-11-25T01:18:04.207Z", "build-worker-01": "2026-11-25T01:21:40.911Z",
       "build-worker-02": "2026-11-25T01:24:10.368Z"}
ONCALL_RESTART = "2026-11-25T06:52:31.540Z"


def _agent_lines(vm: str, role: str) -> list[dict[str, Any]]:
    h = "Microsoft.Azure.Extensions.CustomScript-2.1.10"
    start = after(EXT[vm], 6.3)
    return [
        {"at": start, "kind": "agent", "lines": [
            "INFO ExtHandler ExtHandler Fetched a new incarnation for the WireServer goal state [incarnation 31]",
            "INFO ExtHandler ExtHandler ProcessExtensionsGoalState started [incarnation_31]",
            f"INFO ExtHandler ExtHandler [{h}] Target handler state: enabled [incarnation_31]",
            f"INFO ExtHandler ExtHandler [{h}] [Enable] current handler state is: enabled",
            f"INFO ExtHandler ExtHandler [{h}] Update settings file: 7.settings",
            f"INFO ExtHandler ExtHandler [{h}] Executing command: /var/lib/waagent/{h}/bin/custom-script-shim enable",
        ]},
        {"at": after(EXT[vm], 71.8), "kind": "agent", "lines": [
            f"INFO ExtHandler ExtHandler [{h}] Command: bin/custom-script-shim enable",
            f"INFO ExtHandler ExtHandler [{h}] Extension process completed: build-agent 4.2.1 (role={role})",
            f"INFO ExtHandler ExtHandler ProcessExtensionsGoalState completed [incarnation_31 {65400 + len(vm) * 37} ms]",
        ]},
    ]


def _vm(name: str, ip: str, zone: str, created: str, role: str, *, broken: bool = False,
        **kw: Any) -> dict[str, Any]:
    restarts = [ONCALL_RESTART] if broken else []
    kinds = {1: {"kind": "sshd_fail", "sshd": BAD, "incarnation": 31}} if broken else {}
    boots = boot_chain(after(WEEKLY[name], 17.9), restarts, each={"incarnation": 30},
                       events={0: _agent_lines(name, role)}, kinds=kinds)
    if broken:
        boots[0]["dead_units"] = ["ssh.service"]  # the agent's restart of sshd failed at 01:19
    vm = linux_vm(name, ip, "snet-build", zone=zone, created=created, boots=boots,
                  services=[("build-agent.service", "Emberforge build agent")], **kw)
    vm["extensions"] = [MONITOR_AGENT, BUILD_AGENT]
    return vm


STORY = {
    "name": "sshd-broken",
    "title": "Build coordinator refuses SSH during the content freeze",
    "briefing": ("build-coord-01, the studio's build coordinator, stopped accepting SSH overnight: connections "
                 "to port 22 are refused from the build subnet and the VPN. Build workers are idle because jobs "
                 "are not being dispatched. The on-call engineer restarted the VM at 06:52 UTC on 25 Nov 2026; "
                 "it made no difference. Content freeze is in force: no image changes."),
    "subscription_id": SUB, "tenant_id": TENANT, "resource_group": RG, "location": "westus2",
    "broken_vm": "build-coord-01", "known_good": ["build-worker-01", "build-worker-02"],
    "responder_ip": "203.0.113.7",
    "window": {"start": "2026-11-24T00:00:00Z", "end": "2026-11-25T08:30:00Z"},
    "console_enabled": True,
    "expected": {"hypothesis": "service_failure:sshd", "next_step": "serial_console", "level": "guest"},
    "guest": {"os": "linux", "username": "azureuser", "password": "Lab-Only-Pa55!"},
    "fix": (f"On the serial console, restore {BAD['file']} from /var/backups/build-agent/50-cloud-init.conf.4.1.7 "
            f"(or fix '{BAD['option']}' on line 3), check with sshd -t, then systemctl restart ssh."),
    "facts": {
        "sshd_config_file": BAD["file"], "bad_line": BAD["line"], "bad_option": BAD["option"],
        "intended_option": "StreamLocalBindUnlink",
        "backup": "/var/backups/build-agent/50-cloud-init.conf.4.1.7",
        "unit": "ssh.service", "exit_status": "255/EXCEPTION",
        "agent_update_at": EXT["build-coord-01"][:19] + "Z", "agent_version": "4.2.1",
        "extension": "BuildAgent (Microsoft.Azure.Extensions/CustomScript 2.1)",
        "update_operation": "Microsoft.Compute/virtualMachines/extensions/write",
        "oncall_restart_at": ONCALL_RESTART[:19] + "Z",
        "network_changed": False,
    },
    "tags": {"studio": "emberforge", "team": "build-infra", "env": "prod"},
    "dns_zone": "gx",
    "management_group": "mg-emberforge-prod",
    "principals": {
        "pipeline": sp("sp-buildfarm-rollout", "7e3a9c15-2b6d-4f08-9a4e-d51c8f2b6e93", "20.59.102.14"),
        "ops": sp("sp-buildfarm-ops", "a4d81f60-9c3e-4b72-8e15-3f6b2d9c7a01", "20.59.102.14"),
        "backup": sp("Backup Management Service", "262044b1-e2ce-469f-a196-69ab7ada62d3", "20.42.6.200"),
        "oncall": user("aiko.tanaka@emberforge.games", "Aiko Tanaka", "203.0.113.7"),
        "lead": user("marcus.hale@emberforge.games", "Marcus Hale", "203.0.113.18", app="cli"),
    },
    "role_assignments": [
        {"who": "pipeline", "role": "Virtual Machine Contributor", "scope": "rg", "created": "2025-05-14T16:48:03.2Z", "by": "lead"},
        {"who": "ops", "role": "Virtual Machine Contributor", "scope": "rg", "created": "2025-05-14T16:49:27.9Z", "by": "lead"},
        {"who": "oncall", "role": "Virtual Machine Contributor", "scope": "rg", "created": "2025-10-30T09:12:44.6Z", "by": "lead"},
        {"who": "oncall", "role": "Virtual Machine Administrator Login", "scope": "vm:build-coord-01", "created": "2025-10-30T09:13:10.1Z", "by": "lead"},
        {"who": "lead", "role": "Owner", "scope": "sub", "created": "2024-02-01T18:20:00.4Z", "by": "lead"},
    ],
    "network": {
        "vnet": {"name": "vnet-buildfarm", "address_space": ["10.80.0.0/16"], "subnets": [
            {"name": "snet-build", "prefix": "10.80.2.0/24", "nsg": "nsg-snet-build"},
            {"name": "snet-cache", "prefix": "10.80.4.0/24", "nsg": "nsg-snet-build"},
        ]},
        "asgs": ["asg-build-coord", "asg-build-workers"],
        "nsgs": [
            {"name": "nsg-snet-build", "rules": [
                {"name": "allow-ssh-vpn", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": "203.0.113.0/24", "dst": "VirtualNetwork", "dst_port": "22"},
                {"name": "allow-ssh-build-subnet", "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": ["10.80.2.0/24", "10.80.4.0/24"], "dst": "VirtualNetwork", "dst_port": "22"},
                {"name": "allow-dispatch-to-workers", "priority": 120, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src_asgs": ["asg-build-coord"], "dst_asgs": ["asg-build-workers"], "dst_port": ["9000-9010", "7070"]},
                {"name": "deny-internet", "priority": 4000, "direction": "Inbound", "access": "Deny", "protocol": "*",
                 "src": "Internet", "dst": "*", "dst_port": "*"},
            ]},
        ],
    },
    "vms": [
        _vm("build-coord-01", "10.80.2.4", "1", "2025-05-14T17:02:18.4439120Z", "coordinator", broken=True,
            asgs=["asg-build-coord"], public_ip="20.112.88.41", size="Standard_D8s_v5",
            disks=[{"lun": 0, "size_gb": 2048, "mount": "/srv/build-cache", "suffix": "cache"}],
            view={"power": "running", "agent": "ready", "agent_at": "2026-11-25T08:14:22Z",
                  "provisioned_at": "2026-11-25T06:53:04.1182206Z", "disks_at": "2026-11-25T06:52:41.9904410Z"},
            serial_pad=512),
        _vm("build-worker-01", "10.80.2.10", "1", "2025-05-14T17:05:51.2290173Z", "worker",
            asgs=["asg-build-workers"], size="Standard_F8s_v2",
            view={"power": "running", "agent": "ready", "agent_at": "2026-11-25T08:13:57Z",
                  "provisioned_at": "2026-11-25T01:22:52.6051198Z", "disks_at": "2026-11-24T03:34:50.2287104Z"}),
        _vm("build-worker-02", "10.80.2.11", "2", "2025-05-14T17:05:53.0071225Z", "worker",
            asgs=["asg-build-workers"], size="Standard_F8s_v2", accelerated=False,
            view={"power": "running", "agent": "ready", "agent_at": "2026-11-25T08:14:40Z",
                  "provisioned_at": "2026-11-25T01:25:19.8806731Z", "disks_at": "2026-11-24T03:39:22.7719050Z"}),
    ],
    "activity": [
        *[restart(vm, at, "ops", took=29) for vm, at in WEEKLY.items()],
        *[{"at": at, "op": "vm_ext_write", "vm": vm, "extension": "BuildAgent", "by": "pipeline", "took": 72}
          for vm, at in EXT.items()],
        restart("build-coord-01", ONCALL_RESTART, "oncall", took=33),
        *restore_points(["build-coord-01"], "2026-11-24T10:00:33.808Z", rg="AzureBackupRG_westus2_1"),
        {"at": "2026-11-24T18:44:09.912Z", "op": "deployment_write", "by": "lead", "rg": "rg-buildfarm-cache",
         "resource": "Microsoft.Resources/deployments/ddc-cache-scale-20261124", "took": 260},
        {"at": "2026-11-24T19:02:51.007Z", "op": "storage_listkeys", "by": "pipeline", "rg": "rg-buildfarm-storage",
         "resource": "Microsoft.Storage/storageAccounts/stemberartifacts"},
        {"at": "2026-11-25T00:55:12.431Z", "op": "tags_write", "by": "lead", "resource": "Microsoft.Resources/tags/default"},
        {"at": "2026-11-25T07:05:47.218Z", "op": "storage_listkeys", "by": "oncall", "rg": "rg-buildfarm-storage",
         "resource": "Microsoft.Storage/storageAccounts/stemberartifacts"},
    ],
    "resource_health": [reboot_health("build-coord-01", "2026-11-25T06:52:36.005Z", "2026-11-25T06:53:14.772Z")],
}
