"""OpenSSH server: the ssh/sshd unit failing or starting, bad configuration, host keys, privilege
separation, file modes and refused logins.

Sources: OpenSSH's own messages (openssh-portable sshd.c, servconf.c, auth.c, auth2-pubkeyfile.c,
misc.c ``safe_path``, authfile.c ``sshkey_perm_ok``, packet.c); systemd's unit status lines
(src/core/unit.c, job.c: ``Failed to start <unit> - <description>.`` since systemd 249,
ellipsized to the console width); gcpdiag ``gce/serial-log-analyzer`` (runbook/gce/constants.py
GOOD_SSHD_PATTERNS, BAD_SSHD_PATTERNS, SSHD_AUTH_FAILURE); Microsoft, "Troubleshoot SSH
connection issues in Azure Linux VM due to permission and ownership issues"
(learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-vm-sshconnectionissue-perms).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_PERMS_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-vm-sshconnectionissue-perms"
_SSH_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/detailed-troubleshoot-ssh-connection"
_GCPDIAG = "GoogleCloudPlatform/gcpdiag:gcpdiag/runbook/gce/constants.py"
#: The ssh unit's name as systemd prints it: whole, or cut by the console width (``ssh.servic…``).
_UNIT = (r"(?P<unit>sshd?\.s[a-z]*(?:…|\.\.\.)?|sshd?(?:…|\.\.\.))(?![\w@-])"
         r"(?: - (?P<tail>[A-Za-z][\w ./-]*\w))?")
_DESCRIPTION = r"(?P<desc>OpenBSD Secure Shell server|OpenSSH server daemon|OpenSSH Daemon|OpenSSH server)"
#: A colour code an ellipsis cut in half (``[0;1;…``) or a stray bracket left in a captured name.
_LEFTOVER = re.compile(r"\x1b|\[[0-9;]*(?:…|$)|…$|\.\.\.$")


def _clean(text: str) -> str:
    return _LEFTOVER.sub("", text).strip()


def _unit(match: re.Match[str]) -> str:
    """The unit the line names (``…`` marks a name systemd cut), with its description when printed."""
    groups = match.groupdict()
    name = groups.get("name") or ""
    if name and not name.startswith("ssh"):
        groups["desc"], name = name, ""
    unit = _clean(groups.get("unit") or groups.get("socket") or name)
    if unit and not unit.endswith((".service", ".socket")):
        unit += "…"
    description = _clean(groups.get("tail") or groups.get("desc") or "")
    if unit and description:
        return f"{unit} ({description})"
    return unit or description or "the SSH server"


def _bad_option(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    where = match.group("file") or "sshd_config"
    if match.group("line"):
        where += f" line {match.group('line')}"
    return signature.hit(match, summary=f"sshd refuses its configuration: bad option {match.group('option') or '?'} "
                         f"in {where}; sshd will not start until it is fixed.")


def _host_key(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    if match.group("none"):
        summary = "sshd found no usable host key and exited (no hostkeys available): nothing listens on port 22."
    elif match.group("generator"):
        summary = (f"Host key generation failed ({_clean(match.group('generator'))}): sshd has no host key of that "
                   "type and will not start without one.")
    else:
        path = match.group("path") or "?"
        summary = f"sshd could not load host key {path} (missing, empty or wrong permissions)."
    return signature.hit(match, summary=summary)


def _service_failed(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    groups = match.groupdict()
    if groups.get("status"):
        detail = f" (main process exited, status={groups['status']})"
    elif groups.get("result"):
        detail = f" (result '{groups['result']}')"
    elif groups.get("repeated"):
        detail = " (start request repeated too quickly; systemd gave up restarting it)"
    elif groups.get("bind"):
        detail = " (sshd could not bind any address)"
    else:
        detail = ""
    return signature.hit(match, summary=f"The SSH service failed: {_unit(match)}{detail}; nothing is listening on "
                         "port 22.")


def _started(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    groups = match.groupdict()
    if groups.get("port"):
        return signature.hit(match, summary=f"The SSH server started: sshd listens on {groups['addr']} port "
                             f"{groups['port']}.")
    return signature.hit(match, summary=f"The SSH server started ({_unit(match)}).")


RULE = register(Rule("sshd", [
    # --- configuration -------------------------------------------------------------------------
    Signature("boot:sshd:bad_config",
              r"(?P<file>\S*sshd_config\S*?)?:? ?(?:line (?P<line>\d+): )?Bad configuration option: ?(?P<option>\S*)",
              build=_bad_option, severity="error", os="linux",
              source="openssh-portable:servconf.c (process_server_config_line)",
              samples=("[    8.510000] sshd[1021]: /etc/ssh/sshd_config line 42: Bad configuration option: "
                       "PermitRootLogn",
                       "Nov 25 09:14:02 vm-01 sshd[812]: /etc/ssh/sshd_config.d/50-cloud-init.conf line 3: Bad "
                       "configuration option: StreamLocalBindUnlnk",
                       "/etc/ssh/sshd_config: line 7: Bad configuration option: PasswordAuthenticaton")),
    Signature("boot:sshd:bad_config", r"(?P<file>\S+): terminating, (?P<count>\d+) bad configuration options?",
              "sshd exited: {file} has {count} bad configuration option(s), so the SSH server does not start.",
              severity="error", os="linux", source="openssh-portable:servconf.c (parse_server_config_depth)",
              samples=("[    8.511000] sshd[1021]: /etc/ssh/sshd_config: terminating, 1 bad configuration options",
                       "2026-11-25T09:14:02.123456+00:00 vm-01 sshd[812]: /etc/ssh/sshd_config.d/50-cloud-init.conf: "
                       "terminating, 2 bad configuration options")),
    Signature("boot:sshd:bad_config", r"(?P<file>/\S*sshd_config): No such file or directory",
              "sshd cannot read its configuration {file} (no such file) and exits.", severity="error", os="linux",
              source="openssh-portable:servconf.c (load_server_config: perror)",
              samples=("Nov 25 09:14:02 vm-01 sshd[812]: /etc/ssh/sshd_config: No such file or directory",)),
    # --- privilege separation ----------------------------------------------------------------------
    Signature("boot:sshd:privsep_missing",
              r"Missing privilege separation directory: (?P<dir>\S+)|"
              r"(?P<owned>/\S+) must be owned by root and not group or world-writable|"
              r"Privilege separation user (?P<user>\S+) does not exist",
              build=lambda s, m, c: s.hit(m, summary=(
                  f"sshd exits: its privilege separation directory {m.group('dir')} is missing." if m.group("dir") else
                  f"sshd exits: {m.group('owned')} must be owned by root and not group or world-writable."
                  if m.group("owned") else
                  f"sshd exits: its privilege separation user {m.group('user')} does not exist.")),
              severity="critical", os="linux", source=_PERMS_DOCS,
              samples=("[    8.512000] sshd[1021]: fatal: Missing privilege separation directory: /run/sshd",
                       "Nov 25 09:14:02 vm-01 sshd[812]: /var/empty/sshd must be owned by root and not group or "
                       "world-writable.",
                       "sshd[4022]: /var/lib/empty must be owned by root and not group or world-writable.",
                       "Nov 25 09:14:02 vm-01 sshd[812]: fatal: Privilege separation user sshd does not exist")),
    # --- keys and file modes -------------------------------------------------------------------------
    Signature("boot:sshd:key_permissions",
              r"Permissions 0?(?P<mode>[0-7]{3,4}) for '(?P<path>[^']+)' are too open|"
              r"Unable to load host key \"(?P<hostkey>[^\"]+)\": bad permissions|"
              r"bad permissions: ignore key: (?P<ignored>\S+)|"
              r"Load key \"(?P<loaded>[^\"]+)\": bad permissions|"
              r"(?P<banner>WARNING: UNPROTECTED PRIVATE KEY FILE!)|"
              r"(?P<legacy>key_load_private: bad permissions)",
              build=lambda s, m, c: s.hit(m, summary=(
                  f"Private key {m.group('path')} has mode {m.group('mode')}, too open: OpenSSH ignores it."
                  if m.group("path") else
                  f"Private key {m.group('hostkey') or m.group('ignored') or m.group('loaded')} is readable by "
                  "others (bad permissions): OpenSSH ignores it."
                  if m.group("hostkey") or m.group("ignored") or m.group("loaded") else
                  "OpenSSH refused a private key file that others can read (UNPROTECTED PRIVATE KEY FILE)."
                  if m.group("banner") else
                  "OpenSSH refused a private key because of its permissions (key_load_private: bad permissions).")),
              severity="error", os="linux", source="openssh-portable:authfile.c (sshkey_perm_ok)",
              samples=("Nov 25 09:14:02 vm-01 sshd[812]: Permissions 0644 for '/etc/ssh/ssh_host_ed25519_key' are "
                       "too open.",
                       "[    8.510000] sshd[1021]: @         WARNING: UNPROTECTED PRIVATE KEY FILE!          @",
                       "sshd[1021]: error: key_load_private: bad permissions",
                       "2026-11-25T09:14:02.123456+00:00 vm-01 sshd[812]: Unable to load host key "
                       "\"/etc/ssh/ssh_host_rsa_key\": bad permissions")),
    Signature("boot:sshd:host_key",
              r"(?:Unable to|Could not) load host key:? \"?(?P<path>[^\s\"]+)\"?|"
              r"(?P<none>no hostkeys available)|"
              r"Failed to start (?P<generator>sshd-keygen@\w+\.service|OpenSSH \w+ Server Key Generation)",
              build=_host_key, severity="error", os="linux", source="openssh-portable:sshd.c (load host keys)",
              samples=("[    8.510000] sshd[1021]: Unable to load host key: /etc/ssh/ssh_host_rsa_key",
                       "Nov 25 09:14:02 vm-01 sshd[812]: error: Could not load host key: /etc/ssh/ssh_host_ecdsa_key",
                       "[    8.513000] sshd[1021]: sshd: no hostkeys available -- exiting.",
                       "[FAILED] Failed to start sshd-keygen@rsa.service - OpenSSH rsa Server Key Generation.")),
    Signature("boot:sshd:bad_ownership",
              r"Authentication refused(?: for (?P<user>\S+))?: bad owner(?:ship)? or modes for "
              r"(?:(?P<what>directory|file|home directory) )?(?P<path>[^\s.]+(?:\.[^\s.]+)*)",
              build=lambda s, m, c: s.hit(m, summary=(
                  f"sshd refuses key login: bad ownership or modes for {m.group('what') or 'path'} {m.group('path')} "
                  "(it must not be writable by group or others).")),
              severity="error", os="linux", source=_GCPDIAG + " (SSHD_AUTH_FAILURE); openssh-portable:misc.c",
              samples=("Nov 25 09:20:07 vm-01 sshd[1447]: Authentication refused: bad ownership or modes for "
                       "directory /home/azureuser/.ssh",
                       "2026-11-25T09:20:07.123456+00:00 vm-01 sshd[1447]: Authentication refused: bad ownership or "
                       "modes for file /home/azureuser/.ssh/authorized_keys",
                       "Nov 25 09:20:07 vm-01 sshd[1447]: Authentication refused: bad ownership or modes for "
                       "directory /home/azureuser")),
    # --- refused logins (sshd is up; a user cannot get in) --------------------------------------------
    Signature("boot:sshd:auth_refused",
              r"User (?P<user>\S+) (?:from (?P<host>\S+) )?not allowed because (?P<why>[^.\r\n]+)",
              "sshd refuses user {user}: not allowed because {why}.", severity="warning", os="linux",
              source="openssh-portable:auth.c (allowed_user)",
              samples=("Nov 25 09:20:07 vm-01 sshd[1447]: User azureuser not allowed because account is locked",
                       "Nov 25 09:20:07 vm-01 sshd[1447]: User azureuser from 203.0.113.7 not allowed because not "
                       "listed in AllowUsers",
                       "sshd[1447]: User azureuser not allowed because shell /bin/zsh does not exist")),
    Signature("boot:sshd:auth_refused",
              r"Connection closed by authenticating user (?P<user>\S+) (?P<host>\S+) port (?P<port>\d+)",
              "sshd closed the login of user {user} from {host} before it authenticated (key or password refused).",
              severity="warning", os="linux", source="openssh-portable:packet.c (sshpkt_vfatal), auth2.c",
              samples=("Nov 25 09:20:07 vm-01 sshd[1447]: Connection closed by authenticating user azureuser "
                       "203.0.113.7 port 50522 [preauth]",)),
    Signature("boot:sshd:auth_refused",
              r"(?:No|no) supported authentication methods available|"
              r"maximum authentication attempts exceeded for (?:invalid user )?(?P<user>\S+) from (?P<host>\S+)",
              build=lambda s, m, c: s.hit(m, summary=(
                  f"sshd cut off user {m.group('user')} from {m.group('host')}: maximum authentication attempts "
                  "exceeded." if m.group("user") else
                  "The SSH login failed: no supported authentication methods available (the server accepts none of "
                  "the client's methods, e.g. only publickey).")),
              severity="warning", os="linux", source=_SSH_DOCS,
              samples=("Nov 25 09:20:07 vm-01 sshd[1447]: Received disconnect from 203.0.113.7 port 50522:14: No "
                       "supported authentication methods available [preauth]",
                       "Nov 25 09:20:07 vm-01 sshd[1447]: error: maximum authentication attempts exceeded for "
                       "azureuser from 203.0.113.7 port 50522 ssh2 [preauth]")),
    # --- the service ----------------------------------------------------------------------------------
    Signature("boot:sshd:service_failed", rf"Failed to start (?:{_UNIT}|{_DESCRIPTION})",
              build=_service_failed, severity="critical", os="linux", source=_GCPDIAG + " (BAD_SSHD_PATTERNS)",
              samples=("[FAILED] Failed to start OpenBSD Secure Shell server.",
                       "[FAILED] Failed to start ssh.service - OpenBSD Secure Shell server.",
                       "[FAILED] Failed to start ssh.servic… - OpenBSD Secure Shell server.",
                       "[FAILED] Failed to start sshd.service - OpenSSH server daemon.",
                       "Nov 25 09:14:02 vm-01 systemd[1]: Failed to start OpenSSH Daemon.")),
    Signature("boot:sshd:service_failed",
              r"(?<![\w@.-])(?P<unit>sshd?\.(?:service|socket)): (?:"
              r"[Mm]ain process exited, code=(?:exited|killed|dumped), status=(?!0/)(?P<status>\S+?)\.?(?:\s|$)|"
              r"Failed with result '(?P<result>[^']+)'|"
              r"(?P<repeated>Start request repeated too quickly))",
              build=_service_failed, severity="critical", os="linux", source="systemd src/core/service.c",
              samples=("[    8.520000] systemd[1]: ssh.service: Main process exited, code=exited, status=255/EXCEPTION",
                       "[    8.521000] systemd[1]: ssh.service: Failed with result 'exit-code'.",
                       "Nov 25 09:14:05 vm-01 systemd[1]: sshd.service: Start request repeated too quickly.",
                       "Nov 25 09:14:02 vm-01 systemd[1]: sshd.service: main process exited, code=exited, "
                       "status=255/n/a")),
    Signature("boot:sshd:service_failed",
              r"Failed to listen on (?P<unit>sshd?\.socket)|Failed to listen on (?P<desc>OpenBSD Secure Shell server "
              r"socket)|sshd\[\d+\]: fatal: (?P<bind>Cannot bind any address)",
              build=_service_failed, severity="critical", os="linux", source="openssh-portable:sshd.c (server_listen)",
              samples=("[FAILED] Failed to listen on ssh.socket - OpenBSD Secure Shell server socket.",
                       "Nov 25 09:14:02 vm-01 sshd[812]: fatal: Cannot bind any address.")),
    Signature("boot:sshd:started",
              r"Started (?P<name>ssh\.servi\S*|sshd\.servi\S*|OpenBSD Secure Shell server|OpenSSH server daemon|"
              r"OpenSSH Daemon)(?: - (?P<tail>[A-Za-z][\w ./-]*\w))?|"
              r"Listening on (?P<socket>ssh\.socket|sshd\.socket|OpenBSD Secure Shell server socket)|"
              r"sshd\[\d+\]: Server listening on (?P<addr>\S+) port (?P<port>\d+)",
              build=_started, severity="info", os="linux", source=_GCPDIAG + " (GOOD_SSHD_PATTERNS)",
              samples=("[  OK  ] Started OpenBSD Secure Shell server.",
                       "[  OK  ] Started ssh.service - OpenBSD Secure Shell server.",
                       "[  OK  ] Started sshd.service - OpenSSH server daemon.",
                       "[  OK  ] Listening on ssh.socket - OpenBSD Secure Shell server socket.",
                       "Nov 25 09:14:02 vm-01 sshd[812]: Server listening on 0.0.0.0 port 22.")),
]))
