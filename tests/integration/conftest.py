from typing import Any

import pytest

from tests.fakes.fake_graph import FakeGraph
from tests.fakes.fixtures import fake_graph, fake_providers
from tests.fakes.whatsapp_payloads import APP_SECRET, VERIFY_TOKEN
from tests.harness import harness

__all__ = ["fake_graph", "fake_providers", "harness", "settings_overrides"]


@pytest.fixture
def settings_overrides(fake_graph: FakeGraph) -> dict[str, Any]:
    return {
        "whatsapp_verify_token": VERIFY_TOKEN,
        "whatsapp_app_secret": APP_SECRET,
        "whatsapp_graph_base_url": fake_graph.base_url,
    }
