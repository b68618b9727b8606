"""Optimizers: rules that turn gradients into parameter updates.

Every optimizer sees a list of Parameters and nothing else (no layers). ``step()`` updates each
``Parameter.value`` in place from its ``grad``; ``zero_grad()`` clears the grads;
``learning_rate`` may be changed between steps (a schedule does that, and 1cycle also sets
``momentum`` on SGD / RMSprop or ``beta1`` on the Adam family);
``state_dict()`` / ``load_state_dict()`` capture everything needed to resume exactly.

Defaults are those of ``torch.optim`` (PyTorch 2.13), and each update matches it to rounding.
The updates run in place on a scratch array per parameter, with every per-step constant (bias
corrections) folded into one Python scalar, so a step allocates no full-size temporaries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import numpy as np

from nn101.core import Parameter

__all__ = ["Optimizer", "SGD", "AdaGrad", "RMSprop", "Adam", "AdamW", "AdaMax", "Nadam"]

INF = math.inf


def _check_range(
    owner: str, name: str, value: float, low: float, high: float, *, high_open: bool = True
) -> None:
    """Raise ``ValueError`` naming the argument, the allowed range and the value given."""
    ok = low <= value < high if high_open else low <= value <= high
    if not ok or math.isnan(value):
        bracket = ")" if high_open else "]"
        raise ValueError(f"{owner}: {name} must be in [{low:g}, {high:g}{bracket}, got {value}")


class Optimizer:
    """Base class: the parameters, the learning rate, a step counter and per-parameter state.

    A subclass implements ``step()`` (walking ``self._slots()``) and names its hyperparameters
    in ``hyperparameter_names`` so that ``state_dict`` saves them. ``state[i]`` holds the arrays
    parameter ``i`` carries between steps (moments, momentum buffers), created at its first step.
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = ("learning_rate",)
    scalar_names: ClassVar[tuple[str, ...]] = ()  # scalar state shared by all parameters

    def __init__(self, parameters: Iterable[Parameter], learning_rate: float) -> None:
        self.parameters = list(parameters)
        owner = type(self).__name__
        if not self.parameters:
            raise ValueError(f"{owner}: got an empty parameter list")
        for p in self.parameters:
            if not isinstance(p, Parameter):
                raise TypeError(f"{owner}: expected Parameters, got {type(p).__name__}")
        _check_range(owner, "learning_rate", learning_rate, 0.0, INF)
        self.learning_rate = float(learning_rate)
        self.step_count = 0
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.parameters]
        # Scratch arrays per parameter, reused every step (never saved): see _slots.
        self._scratch: list[np.ndarray | None] = [None for _ in self.parameters]

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.zero_grad()

    def step(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement step")

    def init_state(self, p: Parameter) -> dict[str, np.ndarray]:
        """The state of a parameter before its first step (empty unless overridden)."""
        return {}

    def _slots(
        self, l2: float = 0.0, temporaries: int = 1
    ) -> Iterator[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]]:
        """Yield ``(w, g, state, tmp)`` per parameter: its value, its gradient (plus ``l2 * w``
        when ``l2`` is nonzero: PyTorch's coupled weight decay), its state, and a scratch array
        shaped like ``w`` (``temporaries`` of them stacked on a first axis when more than one).
        """
        for i, p in enumerate(self.parameters):
            w = p.value
            scratch = self._scratch[i]
            if (
                scratch is None
                or scratch.shape[1:] != w.shape
                or scratch.dtype != w.dtype
                or len(scratch) <= temporaries
            ):
                scratch = self._scratch[i] = np.empty((temporaries + 1, *w.shape), w.dtype)
            if not self.state[i]:
                self.state[i] = self.init_state(p)
            g = p.grad
            if l2:
                # g + λw goes in the last scratch array: p.grad itself stays untouched.
                g = np.multiply(w, l2, out=scratch[-1])
                g += p.grad
            yield w, g, self.state[i], scratch[0] if temporaries == 1 else scratch[:temporaries]

    def hyperparameters(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.hyperparameter_names}

    def scalar_state(self) -> dict[str, float]:
        """Scalars (not hyperparameters) that the next step depends on; saved by state_dict."""
        return {name: getattr(self, name) for name in self.scalar_names}

    def state_dict(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "step_count": self.step_count,
            "scalars": self.scalar_state(),
            "state": [{k: v.copy() for k, v in s.items()} for s in self.state],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        owner = type(self).__name__
        if state_dict.get("type") != owner:
            raise ValueError(f"{owner}: state_dict is for {state_dict.get('type')!r}")
        states = state_dict["state"]
        if len(states) != len(self.parameters):
            raise ValueError(
                f"{owner}: state_dict has {len(states)} parameter states, "
                f"this optimizer has {len(self.parameters)} parameters"
            )
        for i, (p, s) in enumerate(zip(self.parameters, states, strict=True)):
            for key, value in s.items():
                if np.shape(value) != p.shape:
                    raise ValueError(
                        f"{owner}: state {key!r} of parameter {i} has shape "
                        f"{np.shape(value)}, expected {p.shape}"
                    )
        for name, value in state_dict["hyperparameters"].items():
            setattr(self, name, tuple(value) if isinstance(value, list) else value)
        for name, value in state_dict.get("scalars", {}).items():
            setattr(self, name, float(value))
        self.step_count = int(state_dict["step_count"])
        self.state = [
            {k: np.array(v, dtype=p.dtype, copy=True) for k, v in s.items()}
            for p, s in zip(self.parameters, states, strict=True)
        ]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

    With g = ∇L(θ) + λθ (λ = weight_decay, μ = momentum, τ = dampening, η = learning_rate):

        b <- g                       (first step)     b <- μ b + (1 - τ) g   (later steps)
        d <- g + μ b  if nesterov else b              (d = g when μ = 0)
        θ <- θ - η d

    Source: Robbins & Monro 1951; momentum: Polyak 1964; Nesterov momentum as in Sutskever et
    al. 2013, "On the importance of initialization and momentum in deep learning".
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = (
        "learning_rate",
        "momentum",
        "dampening",
        "weight_decay",
        "nesterov",
    )

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 1e-3,
        *,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(parameters, learning_rate)
        _check_range("SGD", "momentum", momentum, 0.0, 1.0)
        _check_range("SGD", "dampening", dampening, 0.0, 1.0, high_open=False)
        _check_range("SGD", "weight_decay", weight_decay, 0.0, INF)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "SGD: nesterov=True requires momentum in (0, 1) and dampening 0, "
                f"got momentum={momentum}, dampening={dampening}"
            )
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.weight_decay, self.nesterov = float(weight_decay), bool(nesterov)

    def step(self) -> None:
        self.step_count += 1
        lr, mu, damp = self.learning_rate, self.momentum, self.dampening
        for w, g, state, tmp in self._slots(self.weight_decay):
            d = g
            if mu != 0:
                b = state.get("momentum_buffer")
                if b is None:  # created at the first step with momentum, as PyTorch does
                    b = state["momentum_buffer"] = g.copy()
                else:
                    b *= mu
                    if damp:
                        b += np.multiply(g, 1.0 - damp, out=tmp)
                    else:
                        b += g
                if self.nesterov:
                    d = np.add(np.multiply(b, mu, out=tmp), g, out=tmp)
                else:
                    d = b
            w -= np.multiply(d, lr, out=tmp)


class AdaGrad(Optimizer):
    """AdaGrad: per-coordinate rates shrinking with the sum of squared gradients.

    With g = ∇L(θ) + λθ, step t = 1, 2, ..., G₀ = initial_accumulator_value:

        η_t <- η / (1 + (t - 1) lr_decay)
        G <- G + g²
        θ <- θ - η_t g / (√G + ε)

    Source: Duchi, Hazan & Singer 2011, "Adaptive subgradient methods for online learning and
    stochastic optimization", JMLR 12.
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = (
        "learning_rate",
        "lr_decay",
        "weight_decay",
        "initial_accumulator_value",
        "eps",
    )

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 1e-2,
        *,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(parameters, learning_rate)
        for name, value in [
            ("lr_decay", lr_decay),
            ("weight_decay", weight_decay),
            ("initial_accumulator_value", initial_accumulator_value),
            ("eps", eps),
        ]:
            _check_range("AdaGrad", name, value, 0.0, INF)
        self.lr_decay, self.weight_decay = float(lr_decay), float(weight_decay)
        self.initial_accumulator_value, self.eps = float(initial_accumulator_value), float(eps)

    def init_state(self, p: Parameter) -> dict[str, np.ndarray]:
        return {"sum_sq": np.full_like(p.value, self.initial_accumulator_value)}

    def step(self) -> None:
        self.step_count += 1
        lr_t = self.learning_rate / (1 + (self.step_count - 1) * self.lr_decay)
        for w, g, state, tmp in self._slots(self.weight_decay):
            G = state["sum_sq"]
            G += np.multiply(g, g, out=tmp)
            np.sqrt(G, out=tmp)
            tmp += self.eps
            np.divide(g, tmp, out=tmp)
            w -= np.multiply(tmp, lr_t, out=tmp)


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square of recent gradients.

    With g = ∇L(θ) + λθ, α = alpha, μ = momentum:

        v <- α v + (1 - α) g²
        ḡ <- α ḡ + (1 - α) g;   s <- √(v - ḡ²) + ε   if centered,  else  s <- √v + ε
        b <- μ b + g / s;  θ <- θ - η b              if μ > 0,     else  θ <- θ - η g / s

    Source: Hinton, Srivastava & Swersky 2012, Coursera "Neural networks for machine learning",
    lecture 6e; centered: Graves 2013, "Generating sequences with recurrent neural networks".
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = (
        "learning_rate",
        "alpha",
        "eps",
        "weight_decay",
        "momentum",
        "centered",
    )

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 1e-2,
        *,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(parameters, learning_rate)
        _check_range("RMSprop", "alpha", alpha, 0.0, 1.0)
        _check_range("RMSprop", "eps", eps, 0.0, INF)
        _check_range("RMSprop", "weight_decay", weight_decay, 0.0, INF)
        _check_range("RMSprop", "momentum", momentum, 0.0, 1.0)
        self.alpha, self.eps, self.weight_decay = float(alpha), float(eps), float(weight_decay)
        self.momentum, self.centered = float(momentum), bool(centered)

    def init_state(self, p: Parameter) -> dict[str, np.ndarray]:
        state = {"square_avg": np.zeros_like(p.value)}
        if self.centered:
            state["grad_avg"] = np.zeros_like(p.value)
        return state

    def step(self) -> None:
        self.step_count += 1
        lr, a, mu = self.learning_rate, self.alpha, self.momentum
        for w, g, state, tmp in self._slots(self.weight_decay):
            v = state["square_avg"]
            v *= a
            v += np.multiply(np.multiply(g, g, out=tmp), 1.0 - a, out=tmp)
            if self.centered:
                g_avg = state["grad_avg"]
                g_avg *= a
                g_avg += np.multiply(g, 1.0 - a, out=tmp)
                s = np.subtract(v, np.multiply(g_avg, g_avg, out=tmp), out=tmp)
                np.sqrt(s, out=s)
            else:
                s = np.sqrt(v, out=tmp)
            s += self.eps
            if mu > 0:
                b = state.get("momentum_buffer")
                if b is None:  # momentum may be switched on later by a 1cycle schedule
                    b = state["momentum_buffer"] = np.zeros_like(w)
                b *= mu
                b += np.divide(g, s, out=s)
                w -= np.multiply(b, lr, out=tmp)
            else:
                w -= np.multiply(np.divide(g, s, out=s), lr, out=tmp)


def _check_betas(owner: str, betas: tuple[float, float]) -> tuple[float, float]:
    if len(betas) != 2:
        raise ValueError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        _check_range(owner, f"betas[{i}]", beta, 0.0, 1.0)
    return float(betas[0]), float(betas[1])


class _AdamFamily(Optimizer):
    """Shared constructor of Adam, AdamW, AdaMax and Nadam: ``betas``, ``eps``, weight decay.

    ``beta1`` is settable on its own (1cycle cycles it as the momentum).
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = (
        "learning_rate",
        "betas",
        "eps",
        "weight_decay",
    )

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float,
        betas: tuple[float, float],
        eps: float,
        weight_decay: float,
    ) -> None:
        super().__init__(parameters, learning_rate)
        owner = type(self).__name__
        self.betas = _check_betas(owner, betas)
        _check_range(owner, "eps", eps, 0.0, INF)
        _check_range(owner, "weight_decay", weight_decay, 0.0, INF)
        self.eps, self.weight_decay = float(eps), float(weight_decay)

    @property
    def beta1(self) -> float:
        return self.betas[0]

    @beta1.setter
    def beta1(self, value: float) -> None:
        self.betas = _check_betas(type(self).__name__, (value, self.betas[1]))

    def _moments(self, g: np.ndarray, state: dict[str, np.ndarray], tmp: np.ndarray) -> None:
        """m <- β₁ m + (1 - β₁) g;   v <- β₂ v + (1 - β₂) g²   (in place)."""
        b1, b2 = self.betas
        m, v = state["m"], state["v"]
        m *= b1
        m += np.multiply(g, 1.0 - b1, out=tmp)
        v *= b2
        v += np.multiply(np.multiply(g, g, out=tmp), 1.0 - b2, out=tmp)


class Adam(_AdamFamily):
    """Adam: momentum on the gradient, scaled by a running RMS, both bias-corrected.

    With g = ∇L(θ) + λθ (L2-style weight decay, as torch.optim.Adam), step t = 1, 2, ...:

        m <- β₁ m + (1 - β₁) g            v <- β₂ v + (1 - β₂) g²
        v̂ <- max(v̂, v) if amsgrad else v
        θ <- θ - η (m / (1 - β₁ᵗ)) / (√(v̂ / (1 - β₂ᵗ)) + ε)

    Source: Kingma & Ba 2015, "Adam: a method for stochastic optimization", ICLR; amsgrad:
    Reddi, Kale & Kumar 2018, "On the convergence of Adam and beyond", ICLR.
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = (*_AdamFamily.hyperparameter_names, "amsgrad")

    decoupled = False

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 1e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(parameters, learning_rate, betas, eps, weight_decay)
        self.amsgrad = bool(amsgrad)

    def init_state(self, p: Parameter) -> dict[str, np.ndarray]:
        state = {"m": np.zeros_like(p.value), "v": np.zeros_like(p.value)}
        if self.amsgrad:
            state["v_max"] = np.zeros_like(p.value)
        return state

    def step(self) -> None:
        self.step_count += 1
        t, lr, wd = self.step_count, self.learning_rate, self.weight_decay
        b1, b2 = self.betas
        # η m̂ / (√v̂ + ε) = a m / (√v + ε √c₂) with c₁ = 1 - β₁ᵗ, c₂ = 1 - β₂ᵗ, a = η √c₂ / c₁:
        # the bias corrections fold into two Python scalars.
        c2_sqrt = math.sqrt(1.0 - b2**t)
        a, eps = lr * c2_sqrt / (1.0 - b1**t), self.eps * c2_sqrt
        for w, g, state, tmp in self._slots(0.0 if self.decoupled else wd):
            if self.decoupled and wd:
                w *= 1.0 - lr * wd  # AdamW: θ <- θ - η λ θ, outside the adaptive scaling
            self._moments(g, state, tmp)
            v = state["v"]
            if self.amsgrad:
                v = np.maximum(state["v_max"], v, out=state["v_max"])
            s = np.sqrt(v, out=tmp)
            s += eps
            w -= np.multiply(np.divide(state["m"], s, out=s), a, out=s)


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay.

    Step t = 1, 2, ..., g = ∇L(θ) (no λθ added to the gradient):

        θ <- θ - η λ θ
        m <- β₁ m + (1 - β₁) g            v <- β₂ v + (1 - β₂) g²
        v̂ <- max(v̂, v) if amsgrad else v
        θ <- θ - η (m / (1 - β₁ᵗ)) / (√(v̂ / (1 - β₂ᵗ)) + ε)

    Source: Loshchilov & Hutter 2019, "Decoupled weight decay regularization", ICLR.
    """

    decoupled = True

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 1e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(
            parameters,
            learning_rate,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
        )


class AdaMax(_AdamFamily):
    """AdaMax: Adam with the infinity norm in place of the RMS.

    With g = ∇L(θ) + λθ, step t = 1, 2, ...:

        m <- β₁ m + (1 - β₁) g
        u <- max(β₂ u, |g| + ε)
        θ <- θ - (η / (1 - β₁ᵗ)) m / u

    Source: Kingma & Ba 2015, "Adam: a method for stochastic optimization", ICLR, section 7.1.
    """

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 2e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(parameters, learning_rate, betas, eps, weight_decay)

    def init_state(self, p: Parameter) -> dict[str, np.ndarray]:
        return {"m": np.zeros_like(p.value), "u": np.zeros_like(p.value)}

    def step(self) -> None:
        self.step_count += 1
        b1, b2 = self.betas
        a = self.learning_rate / (1.0 - b1**self.step_count)
        for w, g, state, tmp in self._slots(self.weight_decay):
            m, u = state["m"], state["u"]
            m *= b1
            m += np.multiply(g, 1.0 - b1, out=tmp)
            u *= b2
            np.abs(g, out=tmp)
            tmp += self.eps
            np.maximum(u, tmp, out=u)
            w -= np.multiply(np.divide(m, u, out=tmp), a, out=tmp)


class Nadam(_AdamFamily):
    """Nadam: Adam with Nesterov momentum, with PyTorch's momentum warm-up schedule.

    With g = ∇L(θ) + λθ (or θ <- θ - η λ θ first if decoupled_weight_decay), step t = 1, 2, ...,
    ψ = momentum_decay:

        μ_t = β₁ (1 - ½ · 0.96^(t ψ))        Π_t = μ₁ μ₂ ⋯ μ_t
        m <- β₁ m + (1 - β₁) g               v <- β₂ v + (1 - β₂) g²
        s = √(v / (1 - β₂ᵗ)) + ε
        θ <- θ - η (1 - μ_t) / (1 - Π_t) · g / s - η μ_{t+1} / (1 - Π_t μ_{t+1}) · m / s

    Source: Dozat 2016, "Incorporating Nesterov momentum into Adam", ICLR workshop.
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = (
        *_AdamFamily.hyperparameter_names,
        "momentum_decay",
        "decoupled_weight_decay",
    )
    scalar_names: ClassVar[tuple[str, ...]] = ("mu_product",)

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 2e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
    ) -> None:
        super().__init__(parameters, learning_rate, betas, eps, weight_decay)
        _check_range("Nadam", "momentum_decay", momentum_decay, 0.0, INF)
        self.momentum_decay = float(momentum_decay)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)
        self.mu_product = 1.0  # Π_t, shared by every parameter

    def init_state(self, p: Parameter) -> dict[str, np.ndarray]:
        return {"m": np.zeros_like(p.value), "v": np.zeros_like(p.value)}

    def step(self) -> None:
        self.step_count += 1
        t, lr, wd = self.step_count, self.learning_rate, self.weight_decay
        decoupled = self.decoupled_weight_decay
        b1, b2 = self.betas
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * self.momentum_decay))
        self.mu_product *= mu
        a_grad = lr * (1.0 - mu) / (1.0 - self.mu_product)
        a_m = lr * mu_next / (1.0 - self.mu_product * mu_next)
        # 1 / (√(v / c₂) + ε) = √c₂ / (√v + ε √c₂): no v / c₂ temporary, c₂ = 1 - β₂ᵗ.
        c2_sqrt = math.sqrt(1.0 - b2**t)
        eps = self.eps * c2_sqrt
        for w, g, state, tmps in self._slots(0.0 if decoupled else wd, temporaries=2):
            tmp, tmp2 = tmps
            if decoupled and wd:
                w *= 1.0 - lr * wd
            self._moments(g, state, tmp)
            s = np.sqrt(state["v"], out=tmp)
            s += eps
            np.divide(c2_sqrt, s, out=s)  # s = 1 / (√(v / c₂) + ε)
            w -= np.multiply(np.multiply(g, s, out=tmp2), a_grad, out=tmp2)
            w -= np.multiply(np.multiply(state["m"], s, out=s), a_m, out=s)
