"""The evidence source string: one parser for report parameters, the console and manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.errors import UsageError
from kit.evidence import EvidenceSource, parse_source


def test_each_form_parses_to_its_kind_and_value() -> None:
    assert parse_source("lab:firewall-lockout") == EvidenceSource("lab", "firewall-lockout")
    assert parse_source("lab:firewall-lockout").scenario == "firewall-lockout"
    assert parse_source(" azure ") == EvidenceSource("azure")
    assert parse_source("bundle:~/evidence/vm-1").path == Path("~/evidence/vm-1").expanduser()
    assert parse_source("bundle:C:/odd:path").value == "C:/odd:path"  # only the first colon separates
    assert parse_source("import", allowed=("import",)).kind == "import"
    assert str(parse_source("lab:nsg-deny")) == "lab:nsg-deny" and str(parse_source("azure")) == "azure"


@pytest.mark.parametrize("text", ["", "lab", "lab:", "azure:sub", "bundle:", "s3://bucket", "LAB:x", "import"])
def test_anything_else_is_refused_with_the_forms_it_could_be(text: str) -> None:
    with pytest.raises(UsageError, match=r"must be lab:<scenario>, azure or bundle:<path>"):
        parse_source(text)


def test_a_caller_narrows_the_kinds_it_accepts() -> None:
    with pytest.raises(UsageError, match=r"must be lab:<scenario> or azure$"):
        parse_source("bundle:/x", allowed=("lab", "azure"))
