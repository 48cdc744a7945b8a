from tests.fakes.fixtures import fake_providers

__all__ = ["fake_providers"]
