from __future__ import annotations

from collections.abc import Iterator

import pytest

from minbar.links import recorder, redirects, rollups


@pytest.fixture(autouse=True)
def _fresh_recorder() -> Iterator[None]:
    """Each test starts with an empty click buffer, an empty code cache and no cached salts."""
    recorder.recorder.reopen()
    redirects._cache.clear()
    rollups._salts.clear()
    yield
    recorder.recorder.reopen()
    redirects._cache.clear()
    rollups._salts.clear()
