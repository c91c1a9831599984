"""A real `xiaobao serve` process for the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.demo import write_principals
from infrastructure.settings import Settings
from tests.e2e.test_server import Server


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[Server]:
    write_principals(settings.principals_file)
    running = Server(settings, tmp_path)
    yield running
    if running.process and running.process.poll() is None:
        running.kill()
