"""cloud-init: its dated "Up N seconds" lines (the wall-time anchor), the ci-info network tables,
datasource and metadata trouble, failed config modules and failed stages.

Sources: cloud-init's own messages (cloudinit/cmd/main.py stage banner ``Cloud-init v. %s running
'%s' at %s. Up %s seconds.``, cloudinit/config/modules.py ``Running module %s (%s) failed``,
cloudinit/config/cc_scripts_*.py ``Failed to run module %s (%s in %s)``, cloudinit/subp.py
``Failed running %s [%s]``, cloudinit/config/cc_final_message.py ``Used fallback datasource``,
cloudinit/netinfo.py ci-info tables; console format ``%(asctime)s - %(filename)s[%(levelname)s]:``
and syslog format ``[CLOUDINIT] %(filename)s[%(levelname)s]:`` from config/cloud.cfg.d/05_logging.cfg);
gcpdiag ``gce/serial-log-analyzer`` (runbook/gce/constants.py CLOUD_INIT_*_PATTERN); Microsoft,
"Troubleshoot cloud-init" (learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/
cloud-init-troubleshooting).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog._events import parse_rfc2822
from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/cloud-init-troubleshooting"
_GCPDIAG = "GoogleCloudPlatform/gcpdiag:gcpdiag/runbook/gce/constants.py"
#: cloud-init's log levels as its console and syslog formats print them (``util.py[WARNING]: ``).
_LEVEL = r"(?P<level>\[WARNING\]|\[ERROR\]|\[CRITICAL\]): "
#: What names Azure's metadata: the datasource, IMDS (169.254.169.254) or the wire server (168.63.129.16).
_IMDS = re.compile(r"DataSource|169\.254\.169\.254|IMDS|wireserver|168\.63\.129\.16", re.IGNORECASE)


def _stage(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    """A stage banner: the uptime/wall-time anchor; a finished banner naming DataSourceNone is also a finding."""
    version, name, date_text, up = match.group("version", "name", "date", "up")
    wall = parse_rfc2822(date_text)
    what = name or "finished"
    if match.group("datasource") and match.group("datasource").startswith("DataSourceNone"):
        values: dict[str, object] = {
            "kind": "boot:cloud-init:datasource_failed", "severity": "error",
            "summary": "cloud-init finished without a datasource (DataSourceNone): no metadata, SSH keys or network "
                       "configuration from Azure.",
        }
    else:
        values = {"summary": f"cloud-init {version} {what}" + (f" at uptime {up} s." if wall else ".")}
    if wall is None:
        values["warning"] = f"could not read the cloud-init date {date_text!r}; not used as a time anchor"
    else:
        values["anchor"] = (float(up), wall)
    return signature.hit(match, **values)


def _net_row(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    device = match.group("device")
    if device in ("lo", "Device") or device.startswith("lo"):
        return None
    if signature.kind.endswith(":network_down"):
        return signature.hit(match, summary=f"cloud-init saw {device} down with no address: the VM had no network "
                             "when cloud-init ran.")
    address = match.group("address")
    if _IPV4.match(address):
        return signature.hit(match, summary=f"{device} had address {address} when cloud-init ran.")
    return None


def _module(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    groups = match.groupdict()
    module = groups.get("module") or groups.get("cc") or groups.get("single") or (groups.get("ccfile") or "cc_?")[3:]
    if groups.get("script"):
        return signature.hit(match, summary=f"A cloud-init user script failed: {groups['script']} exited with "
                             f"{groups['code']}.")
    detail = f" ({groups['ccmsg'].strip()[:120]})" if groups.get("ccmsg") else ""
    return signature.hit(match, summary=f"cloud-init module {module} failed{detail}: what it configures (SSH keys, "
                         "users, packages, scripts …) may be missing.")


def _logged(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    level = match.group("level").strip("[]")
    message = match.group("message").strip()[:160]
    if signature.kind.endswith(":datasource_failed"):
        return signature.hit(match, severity="warning" if level == "WARNING" else "error",
                             summary=f"cloud-init could not reach Azure metadata: {message}")
    return signature.hit(match, summary=f"cloud-init {level.lower()} in {match.group('file')}: {message}")


RULE = register(Rule("cloud-init", [
    # "Cloud-init v. 23.4.4 running 'init-local' at Wed, 25 Nov 2026 09:13:51 +0000. Up 6.12 seconds."
    Signature("boot:cloud-init:stage",
              r"Cloud-init v\. (?P<version>\S+) (?:running '(?P<name>[^']+)'|finished) at (?P<date>.+?)\. "
              r"(?:Datasource (?P<datasource>\S+).*?)?Up (?P<up>\d+(?:\.\d+)?) seconds",
              build=_stage, os="linux", source="canonical/cloud-init:cloudinit/cmd/main.py (welcome / final message)",
              samples=("[    5.200000] cloud-init[523]: Cloud-init v. 23.3.3-0ubuntu0~22.04.1 running 'init-local' at "
                       "Wed, 25 Nov 2026 09:13:50 +0000. Up 5.20 seconds.",
                       "[    9.500000] cloud-init[1104]: Cloud-init v. 23.3.3-0ubuntu0~22.04.1 finished at Wed, 25 Nov "
                       "2026 09:13:58 +0000. Datasource DataSourceAzure [seed=/dev/sr0].  Up 9.50 seconds")),
    # "ci-info: |  eth0  | True |   10.0.0.4   | 255.255.255.0 | global | 00:0d:3a:12:34:56 |"
    Signature("boot:cloud-init:network_down",
              r"ci-info: \|\s*(?P<device>[\w.:@-]+)\s*\|\s*False\s*\|",
              build=_net_row, severity="error", os="linux", source=_GCPDIAG + " (CLOUD_INIT_NEGATIVE_PATTERN)",
              samples=("[    6.320000] cloud-init[598]: ci-info: |  eth0  | False |              .               |"
                       "       .       |   .    | 00:0d:3a:5b:8c:2e |",)),
    Signature("boot:cloud-init:address",
              r"ci-info: \|\s*(?P<device>[\w.:@-]+)\s*\|\s*True\s*\|\s*(?P<address>[^|]*?)\s*\|",
              build=_net_row, os="linux", source=_GCPDIAG + " (CLOUD_INIT_POSITIVE_PATTERN)",
              samples=("[    6.320000] cloud-init[598]: ci-info: |  eth0  | True |           10.0.0.4           | "
                       "255.255.255.0 | global | 00:0d:3a:5b:8c:2e |",)),
    Signature("boot:cloud-init:network_down", r"ci-info: .*Route info failed",
              "cloud-init found no routes (Route info failed): no network.", severity="error", os="linux",
              source="canonical/cloud-init:cloudinit/netinfo.py (route_pformat)",
              samples=("[    6.320000] cloud-init[598]: ci-info: !!!!!!!!!!!!!!!Route info failed!!!!!!!!!!!!!!!",)),
    Signature("boot:cloud-init:datasource_failed",
              r"No instance datasource found|Failed to find datasource|DataSourceNone|Datasource None|"
              r"Used fallback datasource",
              "cloud-init found no datasource: no metadata, SSH keys or network configuration from Azure.",
              severity="error", os="linux", source="canonical/cloud-init:cloudinit/cmd/main.py, cc_final_message.py",
              samples=("[  131.300000] cloud-init[598]: 2026-11-25 09:15:31,300 - util.py[WARNING]: No instance "
                       "datasource found! Likely bad things to come!",
                       "[CLOUDINIT] cc_final_message.py[WARNING]: Used fallback datasource")),
    # --- failed config modules -------------------------------------------------------------------------
    Signature("boot:cloud-init:module_failed",
              r"Running module (?P<module>[\w-]+) \(.*\) failed|"
              r"Failed to run module (?P<cc>[\w-]+) \(|"
              r"Ran (?P<single>[\w-]+) but it failed|"
              r"Failed running (?P<script>/var/lib/cloud/\S+) \[(?P<code>\d+)\]|"
              r"(?P<ccfile>cc_\w+)(?:\.py\[WARNING\]|\.py\[ERROR\]): (?P<ccmsg>[^\r\n]*?(?:[Ff]ail|[Ee]rror)[^\r\n]*)",
              build=_module, severity="warning", os="linux",
              source="canonical/cloud-init:cloudinit/config/modules.py (_run_modules: util.logexc)",
              samples=("[   12.400000] cloud-init[1104]: 2026-11-25 09:14:02,512 - util.py[WARNING]: Running module "
                       "ssh (<module 'cloudinit.config.cc_ssh' from '/usr/lib/python3/dist-packages/cloudinit/config/"
                       "cc_ssh.py'>) failed",
                       "[CLOUDINIT] util.py[WARNING]: Running module scripts_user (<module "
                       "'cloudinit.config.cc_scripts_user' from '/usr/lib/python3/dist-packages/cloudinit/config/"
                       "cc_scripts_user.py'>) failed",
                       "cloud-init[1104]: 2026-11-25 09:14:02,500 - cc_scripts_user.py[WARNING]: Failed to run module "
                       "scripts_user (scripts in /var/lib/cloud/instance/scripts)",
                       "cloud-init[1104]: 2026-11-25 09:14:02,490 - subp.py[WARNING]: Failed running "
                       "/var/lib/cloud/instance/scripts/part-001 [1]",
                       "cloud-init[1104]: 2026-11-25 09:14:02,300 - cc_ssh.py[WARNING]: Failed generating key type rsa "
                       "to file /etc/ssh/ssh_host_rsa_key")),
    # --- logged warnings and errors ------------------------------------------------------------------
    Signature("boot:cloud-init:datasource_failed",
              rf"(?P<file>[\w.-]+){_LEVEL}(?P<message>.*)",
              build=lambda s, m, c: _logged(s, m, c) if _IMDS.search(m.group("file") + m.group("message")) else None,
              os="linux", source="canonical/cloud-init:cloudinit/sources/DataSourceAzure.py",
              samples=("[  131.210000] cloud-init[598]: 2026-11-25 09:15:31,023 - DataSourceAzure.py[ERROR]: Failed to "
                       "read from IMDS: request error",
                       "[  131.200000] cloud-init[598]: 2026-11-25 09:15:31,022 - url_helper.py[WARNING]: Calling "
                       "'http://169.254.169.254/metadata/instance?api-version=2021-08-01' failed [120/120s]")),
    Signature("boot:cloud-init:error",
              r"^(?=.*(?:cloud-init|CLOUDINIT)).*?(?P<file>[\w.-]+)(?P<level>\[ERROR\]|\[CRITICAL\]): (?P<message>.*)",
              build=_logged, severity="warning", os="linux",
              source="canonical/cloud-init:config/cloud.cfg.d/05_logging.cfg (console format)",
              samples=("[   12.100000] cloud-init[1104]: 2026-11-25 09:14:02,101 - util.py[ERROR]: Failed to write "
                       "/etc/hosts",
                       "[CLOUDINIT] util.py[CRITICAL]: Failed to write /etc/hostname")),
    Signature("boot:cloud-init:failed",
              r"Failed to start (?:(?P<unit>cloud-(?:init|init-local|config|final)\.s[a-z]*…?)|"
              r"(?P<desc>Initial cloud-init job[^.]*|Apply the settings specified in cloud-config|"
              r"Execute cloud user/final scripts|Cloud-init: [^.]*))",
              build=lambda s, m, c: s.hit(m, summary=f"A cloud-init stage failed to start "
                                          f"({(m.group('unit') or m.group('desc')).rstrip('…').strip()})."),
              severity="error", os="linux", source="systemd src/core/job.c (job_done status line)",
              samples=("[FAILED] Failed to start cloud-init.service - Cloud-init: Network Stage.",
                       "[FAILED] Failed to start Initial cloud-init job (metadata service crawler).",
                       "[FAILED] Failed to start cloud-final.service - Cloud-init: Final Stage.")),
]))
