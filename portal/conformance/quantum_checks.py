"""The `quantum-gate-v1` profile: Qiskit circuits sampled by the backend against exact ideals.

Deterministic circuits (basis states, bit order, shot counts, seeds) must come out exactly;
sampled distributions (Bell, GHZ, rotations, mirror circuits) are judged by total-variation
distance with the shots and re-runs of `portal.conformance.sampling`. Ideal distributions are
written out here in closed form, not computed by Qiskit, so a Qiskit bug cannot pass itself.
Counts follow Qiskit's convention: classical bit 0 is the rightmost character.

Exact means exact, as the profile asks of gate semantics: a noisy QPU with readout error fails
the deterministic checks; judging those by TVD too would be a separate, noise-aware profile.
The seed check's one chance of a false alarm, two seeds drawing identical counts (1000 shots
over 8 outcomes), is 1.8e-11, far inside the budget the TVD tests leave unused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from itertools import product
from typing import TYPE_CHECKING, Any

from portal.conformance.checks import Check, CheckContext, Finding
from portal.conformance.results import Status
from portal.conformance.sampling import TvdPolicy, Verdict, sequential_test
from portal.errors import InputError
from portal.i18n import _

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

PROFILE = "quantum-gate-v1"
BASIS_QUBITS = 4  # every one of the 16 basis states
GHZ_QUBITS = 5
ROTATION_ANGLES = (math.pi / 3, math.pi / 2, 2 * math.pi / 3)  # P(1) = 1/4, 1/2, 3/4
MIRROR_QUBITS = (2, 3, 4, 5)
MIRROR_LAYERS = 6
EXACT_SHOTS = 64
SHOT_COUNTS = (1, 7, 1000)
SEED_SHOTS = 1000
# Statistical tests in the profile (one per sampled circuit), over which the run's false-alarm
# budget is split: Bell 1, GHZ 1, rotations 1, mirror circuits 4.
STATISTICAL_TESTS = 3 + len(MIRROR_QUBITS)


def policy(ctx: CheckContext) -> TvdPolicy:
    """This run's TVD limits: the table's [quantum] section, alpha split over the tests."""
    limits = ctx.table.quantum
    try:
        return TvdPolicy(
            threshold=limits["tvd_threshold"],
            clear=limits["tvd_clear"],
            alpha=limits["false_alarm_per_run"] / STATISTICAL_TESTS,
            max_attempts=int(limits["max_attempts"]),
            growth=int(limits["shots_growth"]),
        )
    except KeyError as exc:
        raise InputError(
            _("The tolerance table v{version} has no [quantum] {key}.").format(
                version=ctx.table.version, key=exc.args[0]
            )
        ) from None


def _circuit(qubits: int, name: str) -> QuantumCircuit:
    from qiskit import QuantumCircuit

    return QuantumCircuit(qubits, qubits, name=name)


def _measured(circuit: QuantumCircuit) -> QuantumCircuit:
    circuit.measure(range(circuit.num_qubits), range(circuit.num_qubits))
    return circuit


def _seeds(ctx: CheckContext) -> Callable[[], int]:
    return lambda: int(ctx.rng.integers(2**31 - 1))


def _qasm(circuit: QuantumCircuit) -> str:
    from qiskit import qasm2

    return str(qasm2.dumps(circuit))


def _top(counts: Mapping[str, int], n: int = 3) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n])


def _max_qubits(ctx: CheckContext, wanted: int) -> int:
    limit = ctx.backend.capabilities().max_qubits
    return wanted if limit is None else min(wanted, int(limit))


def _exact(
    ctx: CheckContext, circuits: list[QuantumCircuit], expected: list[str], *, what: str
) -> Finding:
    """Each circuit must give its one expected bitstring in every shot."""
    seed = _seeds(ctx)()
    results = ctx.backend.run_counts(circuits, shots=EXACT_SHOTS, seed=seed)
    wrong = [
        {"circuit": circuit.name, "expected": want, "got": _top(counts), "qasm": _qasm(circuit)}
        for circuit, want, counts in zip(circuits, expected, results, strict=True)
        if counts != {want: EXACT_SHOTS}
    ]
    measured: dict[str, Any] = {
        "circuits": len(circuits),
        "shots": EXACT_SHOTS,
        "seed_simulator": seed,
        "wrong": wrong,
    }
    shapes = [[c.num_qubits] for c in circuits]
    if wrong:
        first = wrong[0]
        return Finding(
            Status.FAIL,
            _("{count} of {total} {what}: {circuit} gave {got}, not only {expected}").format(
                count=len(wrong),
                total=len(circuits),
                what=what,
                circuit=first["circuit"],
                got=first["got"],
                expected=first["expected"],
            ),
            measured,
            shapes,
        )
    return Finding(
        Status.PASS,
        _("all {total} circuits gave exactly their bitstring").format(total=len(circuits)),
        measured,
        shapes,
    )


def basis_states(ctx: CheckContext) -> Finding:
    """Every basis state on 4 qubits, prepared with X gates, measures to exactly its bitstring."""
    n = _max_qubits(ctx, BASIS_QUBITS)
    circuits, expected = [], []
    for bits in product("01", repeat=n):
        label = "".join(bits)  # qubit 0 is the rightmost character
        circuit = _circuit(n, f"basis_{label}")
        for qubit in range(n):
            if label[n - 1 - qubit] == "1":
                circuit.x(qubit)
        circuits.append(_measured(circuit))
        expected.append(label)
    return _exact(ctx, circuits, expected, what=_("basis states were wrong"))


def bit_order(ctx: CheckContext) -> Finding:
    """Asymmetric circuits: qubit/clbit 0 is the rightmost bit, and crossed measurements follow."""
    n = _max_qubits(ctx, 3)
    low = _circuit(n, "x_on_qubit_0")
    low.x(0)
    high = _circuit(n, "x_on_last_qubit")
    high.x(n - 1)
    crossed = _circuit(n, "qubit_0_into_last_clbit")
    crossed.x(0)
    crossed.measure(0, n - 1)
    crossed.measure(n - 1, 0)
    for qubit in range(1, n - 1):
        crossed.measure(qubit, qubit)
    circuits = [_measured(low), _measured(high), crossed]
    expected = ["0" * (n - 1) + "1", "1" + "0" * (n - 1), "1" + "0" * (n - 1)]
    finding = _exact(ctx, circuits, expected, what=_("bit orders were wrong"))
    reversed_order = all(
        w["got"] == {w["expected"][::-1]: EXACT_SHOTS} for w in finding.measured["wrong"]
    )
    if finding.status is Status.FAIL and reversed_order:
        message = _("the bit order is reversed: Qiskit puts classical bit 0 rightmost")
        return Finding(Status.FAIL, message, finding.measured, finding.shapes)
    return finding


def shots_honoured(ctx: CheckContext) -> Finding:
    """A two-qubit superposition sampled 1, 7 and 1000 times: the counts add up to the shots."""
    circuit = _circuit(2, "h_h")
    circuit.h([0, 1])
    _measured(circuit)
    totals = {}
    for shots in SHOT_COUNTS:
        (counts,) = ctx.backend.run_counts([circuit], shots=shots, seed=_seeds(ctx)())
        valid = all(len(key) == 2 and set(key) <= {"0", "1"} for key in counts)
        totals[str(shots)] = sum(counts.values()) if valid else -1
    wrong = {asked: got for asked, got in totals.items() if got != int(asked)}
    measured = {"totals": totals}
    if wrong:
        return Finding(
            Status.FAIL,
            _("counts do not add up to the shots asked for (asked: got): {wrong}").format(
                wrong=", ".join(f"{a}: {g}" for a, g in wrong.items())
            ),
            measured,
            [[2]],
        )
    return Finding(Status.PASS, _("the counts add up to the shots every time"), measured, [[2]])


def _statistical(
    ctx: CheckContext, tests: list[tuple[QuantumCircuit, dict[str, float]]]
) -> Finding:
    """Each circuit's counts against its ideal distribution by TVD, re-run when borderline."""
    limits = policy(ctx)
    seeds = _seeds(ctx)
    verdicts: list[tuple[QuantumCircuit, Verdict]] = []
    for circuit, ideal in tests:

        def sample(shots: int, seed: int, circuit: QuantumCircuit = circuit) -> dict[str, int]:
            (counts,) = ctx.backend.run_counts([circuit], shots=shots, seed=seed)
            return counts

        verdict = sequential_test(
            sample, ideal, n_bits=circuit.num_clbits, policy=limits, seeds=seeds
        )
        verdicts.append((circuit, verdict))
    measured: dict[str, Any] = {
        "alpha_per_test": limits.alpha,
        "tests": [
            {
                "circuit": circuit.name,
                "qubits": circuit.num_qubits,
                "status": verdict.status.value,
                "tvd": verdict.tvd,
                "threshold": limits.threshold,
                "shots": verdict.attempts[-1].shots,
                "attempts": verdict.as_json(),
                **({} if verdict.status is Status.PASS else {"qasm": _qasm(circuit)}),
            }
            for circuit, verdict in verdicts
        ],
    }
    order = [Status.FAIL, Status.QUALITY_WARNING, Status.PASS]
    status = next(s for s in order if any(v.status is s for _c, v in verdicts))
    circuit, worst = max(verdicts, key=lambda cv: cv[1].tvd)
    measured["tvd"] = worst.tvd
    measured["threshold"] = limits.threshold
    measured["shots"] = worst.attempts[-1].shots
    measured["ratio"] = worst.tvd / limits.threshold
    message = _(
        "largest TVD {tvd:.4f} ({circuit}, {shots} shots, attempt {attempt}); limit {threshold}"
    ).format(
        tvd=worst.tvd,
        circuit=circuit.name,
        shots=worst.attempts[-1].shots,
        attempt=len(worst.attempts),
        threshold=limits.threshold,
    )
    return Finding(status, message, measured, [[c.num_qubits] for c, _v in verdicts])


def bell(ctx: CheckContext) -> Finding:
    """H and CX make (|00> + |11>)/√2: half 00, half 11, nothing else."""
    circuit = _circuit(2, "bell")
    circuit.h(0)
    circuit.cx(0, 1)
    return _statistical(ctx, [(_measured(circuit), {"00": 0.5, "11": 0.5})])


def ghz(ctx: CheckContext) -> Finding:
    """A 5-qubit GHZ state: half all zeros, half all ones."""
    n = _max_qubits(ctx, GHZ_QUBITS)
    circuit = _circuit(n, f"ghz_{n}")
    circuit.h(0)
    for qubit in range(1, n):
        circuit.cx(qubit - 1, qubit)
    return _statistical(ctx, [(_measured(circuit), {"0" * n: 0.5, "1" * n: 0.5})])


def rotations(ctx: CheckContext) -> Finding:
    """RY(π/3), RY(π/2), RY(2π/3) on qubits 0-2: eight outcomes with unequal weights."""
    n = len(ROTATION_ANGLES)
    circuit = _circuit(n, "ry_product")
    for qubit, angle in enumerate(ROTATION_ANGLES):
        circuit.ry(angle, qubit)
    one = [math.sin(angle / 2) ** 2 for angle in ROTATION_ANGLES]
    ideal = {}
    for bits in product("01", repeat=n):
        label = "".join(bits)
        ideal[label] = math.prod(
            one[q] if label[n - 1 - q] == "1" else 1 - one[q] for q in range(n)
        )
    return _statistical(ctx, [(_measured(circuit), ideal)])


def mirror_circuit(qubits: int, layers: int, angles: Any, pairs: Any) -> QuantumCircuit:
    """Random U (layers of U3 gates and CXs) followed by U's inverse: ideally |0…0> again."""
    half = _circuit(qubits, f"mirror_{qubits}q")
    for layer in range(layers):
        for qubit in range(qubits):
            theta, phi, lam = angles[layer][qubit]
            half.u(float(theta), float(phi), float(lam), qubit)
        control, target = (int(q) for q in pairs[layer])
        half.cx(control, target)
    circuit = half.copy()
    circuit.barrier()
    circuit.compose(half.inverse(), inplace=True)
    return _measured(circuit)


def mirror(ctx: CheckContext) -> Finding:
    """Seeded random circuits on 2-5 qubits then their inverses return |0…0> (by TVD)."""
    tests = []
    for wanted in MIRROR_QUBITS:
        n = _max_qubits(ctx, wanted)
        angles = ctx.rng.uniform(0, 2 * math.pi, size=(MIRROR_LAYERS, n, 3))
        pairs = [ctx.rng.choice(n, size=2, replace=False) for _layer in range(MIRROR_LAYERS)]
        tests.append((mirror_circuit(n, MIRROR_LAYERS, angles, pairs), {"0" * n: 1.0}))
    return _statistical(ctx, tests)


def seed_reproducible(ctx: CheckContext) -> Finding:
    """A simulator given the same seed repeats its counts exactly; another seed changes them."""
    if not ctx.backend.capabilities().simulator:
        return Finding(
            Status.NOT_SUPPORTED, _("not a simulator: hardware shots do not repeat by seed")
        )
    circuit = _circuit(3, "h_h_h")
    circuit.h([0, 1, 2])
    _measured(circuit)
    seed = _seeds(ctx)()
    runs = [
        ctx.backend.run_counts([circuit], shots=SEED_SHOTS, seed=s)[0]
        for s in (seed, seed, seed + 1)
    ]
    measured = {"seed": seed, "shots": SEED_SHOTS, "counts": runs}
    if runs[0] != runs[1]:
        message = _("the same seed {seed} gave different counts").format(seed=seed)
        return Finding(Status.FAIL, message, measured, [[3]])
    if runs[0] == runs[2]:
        message = _("seeds {a} and {b} gave the very same counts: the seed is ignored").format(
            a=seed, b=seed + 1
        )
        return Finding(Status.FAIL, message, measured, [[3]])
    return Finding(
        Status.PASS, _("the same seed repeats the counts; another seed does not"), measured, [[3]]
    )


def too_many_qubits(ctx: CheckContext) -> Finding:
    """A circuit one qubit wider than the backend's limit is refused with an error, not run."""
    limit = ctx.backend.capabilities().max_qubits
    if limit is None:
        return Finding(Status.NOT_SUPPORTED, _("the backend states no qubit limit"))
    n = int(limit) + 1
    circuit = _circuit(n, f"wide_{n}q")
    circuit.x(0)  # X and measure only: gates every backend has, so width is the one problem
    _measured(circuit)
    try:
        counts = ctx.backend.run_counts([circuit], shots=EXACT_SHOTS, seed=_seeds(ctx)())
    except Exception as exc:  # noqa: BLE001 - any clear exception is the refusal we want
        measured = {"qubits": n, "max_qubits": limit, "error": f"{type(exc).__name__}: {exc}"[:300]}
        return Finding(
            Status.PASS,
            _("a {n}-qubit circuit was refused: {error}").format(n=n, error=type(exc).__name__),
            measured,
            [[n]],
        )
    return Finding(
        Status.FAIL,
        _("a {n}-qubit circuit ran although the backend takes at most {limit} qubits").format(
            n=n, limit=limit
        ),
        {"qubits": n, "max_qubits": limit, "got": _top(counts[0])},
        [[n]],
    )


CHECKS: list[Check] = [
    Check("quantum.basis-states", "quantum", "", True, basis_states),
    Check("quantum.bit-order", "quantum", "", True, bit_order),
    Check("quantum.shots", "quantum", "", True, shots_honoured),
    Check("quantum.bell", "quantum", "", True, bell),
    Check("quantum.ghz", "quantum", "", True, ghz),
    Check("quantum.rotations", "quantum", "", True, rotations),
    Check("quantum.mirror", "quantum", "", True, mirror),
    Check("quantum.seed", "quantum", "", False, seed_reproducible),
    Check("quantum.too-many-qubits", "quantum", "", True, too_many_qubits),
]
