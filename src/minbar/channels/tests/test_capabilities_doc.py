"""docs/networks/README.md carries the capabilities table generated from the connectors."""

from __future__ import annotations

from pathlib import Path

from minbar.channels.actions import available_networks
from minbar.channels.capabilities_table import markdown_table

DOC = Path(__file__).resolve().parents[4] / "docs" / "networks" / "README.md"
START, END = "<!-- capabilities:start -->\n", "<!-- capabilities:end -->"


def test_the_documented_table_matches_the_connectors():
    text = DOC.read_text()
    documented = text.split(START, 1)[1].split(END, 1)[0]
    expected = markdown_table(available_networks())
    assert documented == expected, (
        "docs/networks/README.md is out of date; regenerate the table with "
        "`minbar networks --markdown` and paste it between the capabilities markers"
    )


def test_every_network_has_a_setup_guide():
    for cls in available_networks():
        guide = DOC.parent.parent.parent / cls.capabilities.setup_doc
        assert cls.capabilities.setup_doc, f"{cls.network} declares no setup_doc"
        assert guide.exists(), f"{cls.capabilities.setup_doc} is missing"
