"""A simulated platform with ground truth, for evaluating Basira end to end: `basira simulate`."""

from basira.simulate.platform import SimulationSummary, simulate_platform

__all__ = ["SimulationSummary", "simulate_platform"]
