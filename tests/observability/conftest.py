from tests.fakes.fixtures import fake_providers
from tests.harness import harness

__all__ = ["fake_providers", "harness"]
