"""The built-in simulated provider (no network)."""

from ai_gateway.providers.simulated.provider import SimulatedProvider, simulated_answer

__all__ = ["SimulatedProvider", "simulated_answer"]
