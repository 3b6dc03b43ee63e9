"""The scripted guests answer like the real tools: output formats, errors, state, no echo of secrets."""

from __future__ import annotations

from kit.lab.guest import Guest, guest_definition
from kit.lab.guest._iptables import Firewall


def _linux(scenario: str = "sshd-broken") -> Guest:
    guest = Guest(scenario, "vm-test-01", guest_definition(scenario))
    guest.feed("azureuser\r" + guest.definition["password"] + "\r")
    return guest


def _run(guest: Guest, line: str) -> str:
    out = guest.feed(line + "\r")
    body = out.split("\r\n", 1)[1] if "\r\n" in out else ""
    return body.rsplit("\r\n", 1)[0] + "\r\n" if "\r\n" in body else ""


def test_login_prompt_hides_the_password_and_refuses_a_wrong_one() -> None:
    guest = Guest("sshd-broken", "vm-test-01", guest_definition("sshd-broken"))
    assert guest.connect().endswith("vm-test-01 login: ")
    out = guest.feed("azureuser\r") + guest.feed("not-it\r")
    assert "not-it" not in out and "Login incorrect" in out
    out = guest.feed("azureuser\r") + guest.feed(guest.definition["password"] + "\r")
    assert guest.definition["password"] not in out and out.endswith("azureuser@vm-test-01:~$ ")


def test_unknown_commands_and_missing_files_answer_like_bash() -> None:
    guest = _linux()
    assert _run(guest, "frobnicate --now") == "-bash: frobnicate: command not found\r\n"
    assert _run(guest, "cat /etc/nope") == "cat: /etc/nope: No such file or directory\r\n"
    assert "you must be root" in _run(guest, "iptables -S")
    assert _run(guest, "echo 'unbalanced") == "-bash: unexpected EOF while looking for matching quote\r\n"


def test_sed_substitutes_in_the_guest_files_and_pipes_filter() -> None:
    guest = _linux()
    _run(guest, "sudo sed -i 's/^ListenAdress \\(.*\\)$/ListenAddress \\1/' /etc/ssh/sshd_config")
    assert _run(guest, "grep -n Listen /etc/ssh/sshd_config") == "4:ListenAddress 0.0.0.0\r\n"
    assert _run(guest, "sudo sshd -t") == ""
    assert _run(guest, "cat /etc/ssh/sshd_config | head -n 2").count("\r\n") == 2


def test_backspace_and_ctrl_c_edit_the_line() -> None:
    guest = _linux()
    out = guest.feed("whoamx\x7fi\r")
    assert "\x08 \x08" in out and "azureuser\r\n" in out
    assert guest.feed("sleep 100\x03").endswith("^C\r\nazureuser@vm-test-01:~$ ")


def test_ctrl_d_back_to_emergency_mode_hides_what_is_typed_next() -> None:
    guest = Guest("fstab-emergency", "vm-test-01", guest_definition("fstab-emergency"))
    assert guest.feed(guest.definition["password"] + "\r").endswith("root@vm-test-01:~# ")
    out = guest.feed("\x04" + guest.definition["password"])  # one chunk: the root shell ends, the prompt asks again
    assert out.endswith("(or press Control-D to continue): ") and guest.definition["password"] not in out
    assert guest.feed("\r").endswith("root@vm-test-01:~# ")


def test_sac_drops_tabs_and_escape_tab_zero_returns_to_sac() -> None:
    guest = Guest("windows-rdp", "vm-win-01", guest_definition("windows-rdp"))
    assert guest.feed("c\tmd") == "cmd"
    guest.feed("\r")
    assert guest.feed("\x1b\t0") == "\x1b[2J\x1b[H\r\nSAC>"


def test_iptables_round_trips_save_format_and_evaluates_packets() -> None:
    rules = ("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
             "-A INPUT -s 10.40.0.0/16 -p tcp -m tcp --dport 22 -j ACCEPT\n"
             "-A INPUT -m limit --limit 10/min -j LOG --log-prefix \"fw DROP: \" --log-level 4\nCOMMIT\n")
    fw = Firewall.from_save(rules)
    assert '-A INPUT -m limit --limit 10/min -j LOG --log-prefix "fw DROP: " --log-level 4' in fw.list_rules()
    assert fw.verdict("INPUT", proto="tcp", dport=22, source="10.40.3.4") == "ACCEPT"
    assert fw.verdict("INPUT", proto="tcp", dport=22, source="203.0.113.7") == "DROP"
    fw.command(["-I", "INPUT", "-p", "tcp", "--dport", "22", "-s", "203.0.113.0/24", "-j", "ACCEPT"])
    assert fw.list_rules().splitlines()[3] == "-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j ACCEPT"
    assert fw.verdict("INPUT", proto="tcp", dport=22, source="203.0.113.7") == "ACCEPT"
    fw.command(["-D", "INPUT", "1"])
    assert Firewall.from_save(fw.save()).list_rules() == fw.list_rules()


def test_sac_answers_unknown_commands_and_cmd_like_windows() -> None:
    guest = Guest("windows-rdp", "vm-win-01", guest_definition("windows-rdp"))
    assert guest.connect().endswith("SAC>")
    assert "Unrecognized command" in guest.feed("dir\r")
    guest.feed("cmd\r")
    guest.feed("ch -si 1\r")
    guest.feed("\r")
    out = guest.feed("azureadmin\r\r" + guest.definition["password"] + "\r")
    assert guest.definition["password"] not in out and out.endswith("C:\\Windows\\system32>")
    assert "is not recognized as an internal or external command" in guest.feed("ls\r")
    assert "FAILED 1060" in guest.feed("sc query NoSuchService\r")


def test_sysrq_and_nmi_print_kernel_lines_on_linux_only() -> None:
    guest = _linux()
    assert "sysrq: Emergency Sync" in guest.sysrq("s")
    assert "NMI received for unknown reason" in guest.nmi()
    assert Guest("windows-rdp", "w", guest_definition("windows-rdp")).sysrq("b") == ""
