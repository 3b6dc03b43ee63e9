"""Canary: a password typed at the guest's prompt and the lab token never reach a transcript.

Through the lab (real wss): the login helper types the password, a human types it again key by
key at a sudo-less ``login:``/``Password:`` pair, and the token is typed into the shell so the
guest echoes it back in pieces. Both transcript files are searched for the secrets and for any
long piece of them.
"""

from __future__ import annotations

import time
from pathlib import Path

from kit.console import open_lab_session
from kit.lab import running_lab

PASSWORD = "Lab-Only-Pa55!"


def _pieces(secret: str, size: int = 12) -> list[str]:
    return [secret[i:i + size] for i in range(0, len(secret) - size + 1, size // 2)]


def test_password_and_token_never_appear_in_transcripts(tmp_path: Path) -> None:
    with running_lab(scenarios=["firewall-lockout"]) as lab:
        token = lab.token
        with open_lab_session(lab, "firewall-lockout", approval="CANARY-1", transcript=tmp_path / "c.cast") as s:
            s.login("azureuser", PASSWORD)
            s.sendline("exit")
            s.expect("login: $", timeout=10)
            for key in "azureuser\r":                  # a human, one key per frame
                s.send(key)
                time.sleep(0.005)
            s.expect("Password: $", timeout=10)
            for key in PASSWORD + "\r":
                s.send(key)
                time.sleep(0.005)
            s.expect(r"\$ $", timeout=10)
            for key in f"echo {token}\r":              # echoed back by the guest, key by key
                s.send(key)
            s.expect(r"\$ $", timeout=10)
            out = s.run(f"echo Authorization: Bearer {token[:40]}")
            assert token[:40] in out                     # the session itself sees the real output
        for path in (tmp_path / "c.cast", tmp_path / "c.txt"):
            text = path.read_text()
            assert PASSWORD not in text, path
            assert token not in text, path
            for piece in _pieces(token):
                assert piece not in text, (path, piece)
            assert "input hidden (typed at a password prompt)" in (tmp_path / "c.cast").read_text()
        assert "echo [REDACTED]" in (tmp_path / "c.txt").read_text()
