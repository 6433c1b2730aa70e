"""Print one of the two Quickstart commands of README.md: `demo` (first) or `test` (second)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

readme = Path(__file__).resolve().parents[1] / "README.md"
text = readme.read_text()
section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"```(?:sh|bash|shell)?\n(.*?)```", section, re.S)
if len(blocks) != 2:
    sys.exit(f"README Quickstart must hold exactly two fenced commands, found {len(blocks)}")
which = {"demo": 0, "test": 1}[sys.argv[1]]
print(blocks[which].strip())
