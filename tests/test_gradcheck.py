"""The gradient checker itself must be able to fail: a wrong backward is caught."""

from __future__ import annotations

import numpy as np
import pytest

import nn101
from nn101.gradcheck import check_layer, check_loss, numerical_gradient, relative_error


def test_numerical_gradient_of_known_functions():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(
        numerical_gradient(lambda v: float(np.sum(v**3)), x), 3 * x**2, rtol=1e-8
    )
    np.testing.assert_array_equal(x, [[1.0, -2.0], [0.5, 3.0]])  # restored exactly
    with pytest.raises(TypeError, match="expected a float64 array, got float32"):
        numerical_gradient(lambda v: 0.0, x.astype(np.float32))


def test_relative_error():
    a = np.array([1.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == 1.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="one shape"):
        relative_error(np.zeros(2), np.zeros(3))


class WrongInputGradient(nn101.Dense):
    def backward(self, grad_output):
        return 1.01 * super().backward(grad_output)  # 1% off


class ForgetsBiasGradient(nn101.Dense):
    def backward(self, grad_output):
        bias_grad = self.bias.grad.copy()
        grad_input = super().backward(grad_output)
        self.bias.grad[...] = bias_grad
        return grad_input


class TransposedWeightGradient(nn101.Dense):
    def backward(self, grad_output):
        W_grad = self.weight.grad.copy()
        grad_input = super().backward(grad_output)
        step = self.weight.grad - W_grad
        self.weight.grad[...] = W_grad + step[::-1]  # rows in the wrong order
        return grad_input


@pytest.mark.parametrize("cls", [WrongInputGradient, ForgetsBiasGradient, TransposedWeightGradient])
def test_wrong_backward_is_detected(cls):
    rng = np.random.default_rng(0)
    layer = cls(4, 3, rng=rng, dtype=np.float64)
    layer.bias.value[:] = rng.standard_normal(3)
    assert (
        check_layer(nn101.Dense(4, 3, rng=rng, dtype=np.float64), rng.standard_normal((5, 4)))
        < 1e-8
    )
    assert check_layer(layer, rng.standard_normal((5, 4))) > 1e-3


def test_forgotten_penalty_gradient_is_detected():
    class NoPenaltyGradient(nn101.Dense):
        def backward(self, grad_output):
            l1, l2 = self.l1, self.l2
            self.l1 = self.l2 = 0.0
            try:
                return super().backward(grad_output)
            finally:
                self.l1, self.l2 = l1, l2

    x = np.random.default_rng(1).standard_normal((5, 4))
    assert check_layer(NoPenaltyGradient(4, 3, dtype=np.float64, l2=0.5), x) > 1e-3


def test_wrong_loss_gradient_is_detected():
    class HalfGradient(nn101.MeanSquaredError):
        def backward(self):
            return 0.5 * super().backward()

    z = np.random.default_rng(2).standard_normal((4, 3))
    t = np.zeros((4, 3))
    assert check_loss(nn101.MeanSquaredError(), z, t) < 1e-8
    assert check_loss(HalfGradient(), z, t) > 0.1


def test_check_layer_needs_float64_and_restores_state():
    with pytest.raises(TypeError, match=r"float64 layer.*Dense.weight is float32"):
        check_layer(nn101.Dense(2, 2), np.zeros((1, 2)))
    rng = np.random.default_rng(3)
    bn = nn101.BatchNorm1d(3, dtype=np.float64)
    bn.weight.grad[:] = 7.0
    check_layer(bn, rng.standard_normal((5, 3)), training=True)
    np.testing.assert_array_equal(bn.running_mean, 0.0)  # buffers restored
    np.testing.assert_array_equal(bn.running_var, 1.0)
    np.testing.assert_array_equal(bn.weight.grad, 7.0)  # grads restored


def test_dropout_is_checked_with_a_frozen_mask():
    dropout = nn101.Dropout(0.5, rng=np.random.default_rng(4))
    x = np.random.default_rng(5).standard_normal((6, 7))
    assert check_layer(dropout, x, training=True) < 1e-8

    # and a dropout whose backward draws a different mask from forward is caught
    class RedrawsMask(nn101.Dropout):
        def backward(self, grad_output):
            self.forward(np.ones_like(grad_output), training=True)
            return super().backward(grad_output)

    assert check_layer(RedrawsMask(0.5, rng=np.random.default_rng(4)), x) > 1e-3
