"""The fixed-point leaky integrate-and-fire model neuromorphic backends must match bit for bit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class LifParams:
    """Integer parameters: v <- v - (v >> decay_shift) + I; spike and reset when v >= threshold."""

    decay_shift: int = 4
    threshold: int = 1 << 12
    reset: int = 0
    refractory: int = 2


@dataclass(frozen=True)
class LifTrace:
    """Membrane potentials (int32) and spikes (bool), both shaped (steps, neurons)."""

    potentials: npt.NDArray[np.int32]
    spikes: npt.NDArray[np.bool_]


def simulate(currents: npt.NDArray[np.int32], params: LifParams) -> LifTrace:
    """Run the reference model over int32 input currents shaped (steps, neurons)."""
    steps, neurons = currents.shape
    v = np.zeros(neurons, dtype=np.int32)
    wait = np.zeros(neurons, dtype=np.int32)
    potentials = np.empty((steps, neurons), dtype=np.int32)
    spikes = np.zeros((steps, neurons), dtype=np.bool_)
    for t in range(steps):
        active = wait == 0
        leaked = v - (v >> params.decay_shift)  # arithmetic shift: floor, also for negatives
        v = np.where(active, leaked + currents[t], v).astype(np.int32)
        fired = active & (v >= params.threshold)
        v = np.where(fired, np.int32(params.reset), v).astype(np.int32)
        wait = np.where(fired, params.refractory, np.maximum(wait - 1, 0)).astype(np.int32)
        potentials[t] = v
        spikes[t] = fired
    return LifTrace(potentials, spikes)
