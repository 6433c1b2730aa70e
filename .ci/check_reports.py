"""Fail when a required test report is missing, empty, failing or has skipped tests."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

problems: list[str] = []
for name in sys.argv[1:]:
    path = Path(name)
    if not path.exists():
        problems.append(f"{name}: missing (that suite did not run)")
        continue
    root = ET.parse(path).getroot()  # noqa: S314 - our own pytest report
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = sum(int(s.get("tests", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    print(f"{name}: {tests} tests, {failed} failed, {skipped} skipped")
    if tests == 0:
        problems.append(f"{name}: no tests ran")
    if failed:
        problems.append(f"{name}: {failed} failed")
    if skipped:
        names = [
            f"{case.get('classname')}.{case.get('name')}"
            for case in root.iter("testcase")
            if case.find("skipped") is not None
        ]
        problems.append(f"{name}: {skipped} skipped: " + ", ".join(names[:20]))
if problems:
    print("CI FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print("All required suites ran with nothing skipped.")
