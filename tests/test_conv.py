"""Convolution, pooling and BatchNorm2d: finite differences over many geometries, the weight
layout conversion, the im2col / col2im pair, argument and shape errors, config round trips."""

from __future__ import annotations

import numpy as np
import pytest

import nn101
from nn101.functional import conv as F
from nn101.gradcheck import check_layer

TOL = 1e-7

CONV_CASES = [
    # (in, out, kwargs, input shape (N, C, H, W))
    (2, 3, {"kernel_size": 3}, (2, 2, 6, 6)),
    (1, 2, {"kernel_size": 3, "padding": 1}, (1, 1, 5, 7)),  # batch 1, one channel
    (3, 2, {"kernel_size": 3, "stride": 2}, (2, 3, 7, 7)),
    (2, 2, {"kernel_size": 2, "stride": 3}, (2, 2, 8, 7)),
    (2, 3, {"kernel_size": (2, 3), "stride": (1, 2)}, (2, 2, 5, 9)),  # non-square kernel, stride
    (2, 2, {"kernel_size": 3, "padding": "same"}, (2, 2, 5, 6)),
    (2, 2, {"kernel_size": 4, "padding": "same"}, (2, 2, 5, 6)),  # asymmetric "same"
    (2, 2, {"kernel_size": (3, 2), "padding": (1, 2)}, (2, 2, 5, 4)),  # padding pair
    (2, 2, {"kernel_size": 3, "dilation": 2}, (2, 2, 7, 8)),
    (2, 2, {"kernel_size": 3, "dilation": (2, 1), "padding": "same"}, (1, 2, 6, 5)),
    (2, 3, {"kernel_size": 3, "stride": 2, "padding": 1, "bias": False}, (2, 2, 6, 5)),
    (3, 1, {"kernel_size": 1}, (2, 3, 3, 4)),
    (1, 2, {"kernel_size": 3, "padding": "valid", "stride": (2, 3)}, (2, 1, 9, 11)),
]


@pytest.mark.parametrize("in_channels, out_channels, kwargs, shape", CONV_CASES)
def test_conv2d_gradients_match_finite_differences(in_channels, out_channels, kwargs, shape):
    rng = np.random.default_rng(0)
    layer = nn101.Conv2d(in_channels, out_channels, rng=rng, dtype=np.float64, **kwargs)
    if layer.bias is not None:
        layer.bias.value[:] = rng.standard_normal(out_channels)
    assert check_layer(layer, rng.standard_normal(shape), rng=rng) < TOL


@pytest.mark.parametrize("in_channels, out_channels, kwargs, shape", CONV_CASES)
def test_conv2d_matches_a_direct_loop(in_channels, out_channels, kwargs, shape):
    """The definition, summed term by term, against the one matrix product."""
    rng = np.random.default_rng(1)
    layer = nn101.Conv2d(in_channels, out_channels, rng=rng, dtype=np.float64, **kwargs)
    x = rng.standard_normal(shape)
    (top, bottom), (left, right) = layer.pads
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel_size, layer.stride, layer.dilation
    Ho, Wo = layer.output_shape(*shape[2:])
    expected = np.zeros((shape[0], out_channels, Ho, Wo))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dh : i * dh + sh * (Ho - 1) + 1 : sh][
                :, :, :, j * dw : j * dw + sw * (Wo - 1) + 1 : sw
            ]  # (N, C, Ho, Wo)
            expected += np.einsum("nchw,co->nohw", patch, layer.weight.value[i, j])
    if layer.bias is not None:
        expected += layer.bias.value[:, None, None]
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)


def test_first_layer_skips_the_input_gradient_but_not_the_weights():
    rng = np.random.default_rng(2)
    layer = nn101.Conv2d(1, 4, 3, rng=rng, dtype=np.float64)
    x = rng.standard_normal((3, 1, 6, 6))
    g = rng.standard_normal(layer.forward(x, training=True).shape)
    layer.backward(g)
    full = layer.weight.grad.copy()
    layer.zero_grad()
    assert layer.backward(g, input_grad=False) is None
    np.testing.assert_array_equal(layer.weight.grad, full)


def test_backward_adds_into_the_gradients():
    rng = np.random.default_rng(3)
    layer = nn101.Conv2d(2, 2, 3, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 2, 5, 5))
    g = rng.standard_normal(layer.forward(x, training=True).shape)
    layer.backward(g)
    once = layer.weight.grad.copy()
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * once)


def test_weight_layout_conversion_round_trips():
    torch_weight = np.random.default_rng(4).standard_normal((5, 3, 2, 4))  # (out, in, kh, kw)
    ours = F.weight_from_torch(torch_weight)
    assert ours.shape == (2, 4, 3, 5)  # (kh, kw, in, out)
    assert ours[1, 3, 2, 4] == torch_weight[4, 2, 1, 3]
    np.testing.assert_array_equal(F.weight_to_torch(ours), torch_weight)


@pytest.mark.parametrize("channels", [1, 3])
def test_col2im_is_the_adjoint_of_im2col(channels):
    """<im2col(x), c> = <x, col2im(c)> for every x and c: the backward of a linear map."""
    rng = np.random.default_rng(5)
    kernel, stride, dilation = (3, 2), (2, 1), (1, 2)
    xp = rng.standard_normal((2, 9, 8, channels))
    out = (F.output_size(9, 3, 2, 0), F.output_size(8, 2, 1, 0, 2))
    cols = F.im2col(xp, kernel, stride, dilation, out)
    c = rng.standard_normal(cols.shape)
    back = F.col2im(c, xp.shape, kernel, stride, dilation, out)
    assert np.vdot(cols, c) == pytest.approx(np.vdot(xp, back), rel=1e-12)


@pytest.mark.parametrize("rows", [1, 300, 1300, 5000])
def test_patch_weight_grad_in_blocks_equals_one_product(rows):
    rng = np.random.default_rng(14)
    X_col, G = rng.standard_normal((1300, 7)), rng.standard_normal((1300, 3))
    np.testing.assert_allclose(F.patch_weight_grad(X_col, G, rows), X_col.T @ G, rtol=1e-12)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("block_bytes", [1, 2 * 12 * 27 * 8, 1 << 30])  # 1, 2 (5 = 2+2+1), all
def test_blocked_conv_equals_one_product(channels, block_bytes):
    rng = np.random.default_rng(15)
    kernel, stride, dilation = (3, 3), (2, 1), (1, 2)
    xp = rng.standard_normal((5, 7, 8, channels))
    out = (F.output_size(7, 3, 2, 0), F.output_size(8, 3, 1, 0, 2))  # (3, 4): 12 rows an image
    W = rng.standard_normal((9 * channels, 4))
    full = F.im2col(xp, kernel, stride, dilation, out) @ W
    blocked = F.blocked_conv(xp, W, kernel, stride, dilation, out, block_bytes)
    np.testing.assert_allclose(blocked, full, rtol=1e-12)


POOL_CASES = [
    (nn101.MaxPool2d, {"kernel_size": 2}, (2, 3, 6, 6)),
    (nn101.MaxPool2d, {"kernel_size": 2}, (1, 1, 5, 7)),  # does not tile: last row / column left
    (nn101.MaxPool2d, {"kernel_size": 3, "stride": 2}, (2, 2, 7, 6)),  # overlapping windows
    (nn101.MaxPool2d, {"kernel_size": (2, 3), "stride": (2, 1), "padding": 1}, (2, 2, 5, 6)),
    (nn101.MaxPool2d, {"kernel_size": 3, "stride": 1, "padding": 1}, (2, 2, 4, 4)),
    (nn101.AvgPool2d, {"kernel_size": 2}, (2, 3, 6, 6)),
    (nn101.AvgPool2d, {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 2, 7, 6)),
    (nn101.AvgPool2d, {"kernel_size": (2, 3), "stride": (1, 2)}, (1, 1, 5, 7)),
]


@pytest.mark.parametrize("cls, kwargs, shape", POOL_CASES)
def test_pooling_gradients_match_finite_differences(cls, kwargs, shape):
    rng = np.random.default_rng(6)
    x = rng.permutation(np.prod(shape)).reshape(shape) / 7.0  # distinct values: no ties
    assert check_layer(cls(**kwargs), x, rng=rng) < TOL


def test_max_pool_routes_ties_to_the_first_maximum():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, 1, 3] = 1.0  # window 2 has one maximum; window 1 is all ties
    layer = nn101.MaxPool2d(2)
    assert layer.forward(x, training=True).tolist() == [[[[0.0, 1.0]]]]
    dx = layer.backward(np.array([[[[5.0, 7.0]]]]))
    assert dx.tolist() == [[[[5.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 7.0]]]]


def test_max_pool_backward_after_inference_forward():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 2, 4, 4))
    g = rng.standard_normal((2, 2, 2, 2))
    layer = nn101.MaxPool2d(2)
    layer.forward(x, training=True)
    expected = layer.backward(g)
    layer.forward(x, training=False)  # the tiling fast path, no argmax saved
    np.testing.assert_array_equal(layer.backward(g), expected)


def test_global_average_pool_gradient():
    rng = np.random.default_rng(8)
    layer = nn101.GlobalAvgPool2d()
    x = rng.standard_normal((2, 3, 4, 5))
    assert layer.forward(x).shape == (2, 3)
    assert check_layer(layer, x, rng=rng) < TOL


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (2, 3, 1, 2)])
def test_batchnorm2d_training_gradients(shape):
    rng = np.random.default_rng(9)
    layer = nn101.BatchNorm2d(3, dtype=np.float64)
    layer.weight.value[:] = rng.uniform(0.5, 1.5, 3)
    layer.bias.value[:] = rng.standard_normal(3)
    assert check_layer(layer, 2 * rng.standard_normal(shape) + 1, rng=rng) < TOL
    assert check_layer(layer, rng.standard_normal(shape), rng=rng, training=False) < TOL


def test_a_small_cnn_trains_end_to_end_on_channels_last_views():
    rng = np.random.default_rng(10)
    model = nn101.Sequential(  # no bias before BatchNorm: its gradient is exactly 0
        nn101.Conv2d(1, 4, 3, padding=1, bias=False, rng=rng, dtype=np.float64),
        nn101.BatchNorm2d(4, dtype=np.float64),
        nn101.ReLU(),
        nn101.MaxPool2d(2),
        nn101.Conv2d(4, 4, 3, rng=rng, dtype=np.float64),
        nn101.ReLU(),
        nn101.AvgPool2d(2, stride=1),
        nn101.Flatten(),
        nn101.Dense(4, 3, rng=rng, dtype=np.float64),
    )
    assert check_layer(model, rng.standard_normal((3, 1, 8, 8)), rng=rng) < 1e-6


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn101.Conv2d(0, 2, 3), r"Conv2d: in_channels must be a positive integer, got 0"),
        (lambda: nn101.Conv2d(1, 2, 0), r"kernel_size must be an int >= 1 or a pair"),
        (lambda: nn101.Conv2d(1, 2, 3, stride=(1, 2, 3)), r"stride must be an int >= 1"),
        (lambda: nn101.Conv2d(1, 2, 3, padding=-1), r"padding must be an int >= 0"),
        (lambda: nn101.Conv2d(1, 2, 3, padding="full"), r"padding must be an int >= 0"),
        (lambda: nn101.Conv2d(1, 2, 3, 2, "same"), r"padding='same' needs stride 1, got"),
        (lambda: nn101.MaxPool2d(2, padding=2), r"padding must be at most half the kernel"),
        (lambda: nn101.AvgPool2d(0), r"AvgPool2d: kernel_size must be an int >= 1"),
        (lambda: nn101.BatchNorm2d(0), r"BatchNorm2d: num_features must be >= 1, got 0"),
    ],
)
def test_bad_arguments_say_what_was_expected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "layer, x, message",
    [
        (nn101.Conv2d(3, 2, 3), np.zeros((2, 1, 5, 5)), r"expected input \(N, 3, H, W\), got"),
        (nn101.Conv2d(1, 2, 3), np.zeros((1, 28, 28)), r"got \(1, 28, 28\)"),
        (nn101.Conv2d(1, 2, 5), np.zeros((1, 1, 3, 8)), r"at least as large as the kernel"),
        (nn101.MaxPool2d(2), np.zeros((4, 6)), r"MaxPool2d\(\(2, 2\)\) expected input \(N, C"),
        (nn101.AvgPool2d(3), np.zeros((1, 1, 2, 2)), r"at least as large as the window"),
        (nn101.BatchNorm2d(3), np.zeros((2, 3, 4)), r"BatchNorm2d\(3\) expected input \(N, 3, H"),
        (nn101.GlobalAvgPool2d(), np.zeros((2, 3)), r"expected input \(N, C, H, W\), got"),
    ],
)
def test_bad_input_shapes_say_what_was_expected(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer.forward(x)


@pytest.mark.parametrize(
    "layer",
    [
        nn101.Conv2d(2, 3, (3, 2), padding="same", dilation=(1, 2), bias=False),
        nn101.Conv2d(2, 3, 3, padding=(1, 0), dilation=2, weight_init="glorot_normal"),
        nn101.MaxPool2d(3, stride=2, padding=1),
        nn101.AvgPool2d((2, 3)),
        nn101.GlobalAvgPool2d(),
        nn101.BatchNorm2d(4, momentum=0.2, eps=1e-3, dtype=np.float64),
    ],
    ids=repr,
)
def test_config_rebuilds_the_layer(layer):
    rebuilt = type(layer).from_config(layer.config())
    assert rebuilt.config() == layer.config()
    assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in layer.parameters()]


def test_conv_weight_init_sees_the_convolution_fans():
    layer = nn101.Conv2d(8, 16, 3, rng=np.random.default_rng(11), dtype=np.float64)
    bound = np.sqrt(6.0 / (8 * 9))  # He uniform, fan_in = C_in·kh·kw
    assert np.abs(layer.weight.value).max() <= bound
    assert np.abs(layer.weight.value).max() > 0.9 * bound


def test_random_shift_moves_each_image_within_the_frame():
    from nn101.data.augment import RandomShift

    x = np.zeros((50, 1, 9, 9), dtype=np.uint8)
    x[:, 0, 4, 4] = 255  # one bright pixel in the middle of every image
    shifted = RandomShift(2, rng=np.random.default_rng(12))(x)
    assert shifted.shape == x.shape and shifted.dtype == x.dtype
    rows, cols = np.nonzero(shifted[:, 0])[1:]
    assert len(rows) == 50  # the pixel is never lost: shifts of at most 2 from the middle
    assert set(rows - 4) == set(cols - 4) == {-2, -1, 0, 1, 2}  # every shift occurs
    assert (shifted.sum(axis=(1, 2, 3)) == 255).all()


def test_random_shift_refuses_bad_arguments():
    from nn101.data.augment import RandomShift

    with pytest.raises(ValueError, match=r"max_shift must be an integer >= 0, got -1"):
        RandomShift(-1)
    with pytest.raises(ValueError, match=r"expected images \(N, C, H, W\) or \(N, H, W\)"):
        RandomShift(1)(np.zeros((3, 4)))


def test_cnn_recipe_builds_for_mnist_and_other_sizes():
    from nn101.recipes import augment_training_set, build_cnn

    rng = np.random.default_rng(13)
    model, settings = build_cnn("mnist", rng=rng)
    assert model.forward(np.zeros((2, 1, 28, 28), np.float32)).shape == (2, 10)
    _, augmented_settings = build_cnn("mnist", augment=True, rng=rng)
    assert augmented_settings.epochs > settings.epochs
    model, _ = build_cnn("own", in_channels=3, image_size=(32, 20), num_classes=4, rng=rng)
    assert model.forward(np.zeros((2, 3, 32, 20), np.float32)).shape == (2, 4)
    with pytest.raises(ValueError, match=r"at least 16 x 16, got \(12, 28\)"):
        build_cnn(image_size=(12, 28))
    data = nn101.data.Dataset(np.zeros((4, 1, 28, 28), np.uint8), np.arange(4))
    x, y = augment_training_set(data, rng=rng)[:2]
    assert x.shape == (2, 1, 28, 28) and y.tolist() == [0, 1]


@pytest.mark.slow
def test_cnn_benchmark_configurations_run_and_profile():
    from benchmarks import cnn
    from benchmarks.report import summarize

    configs = cnn.cnn_configs(quick=True)
    entries = cnn.time_cnn(configs, ["nn101"], repeats=1, seed=0)
    for entry, config in zip(entries, configs, strict=True):
        summarize(entry, peak_gflops=100.0)
        assert entry["name"] == config.name and entry["systems"]["nn101"]["median"] > 0
    assert cnn.ConvConfig("LeNet-5", "predict", 1, 1).multiply_adds == (
        28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10
    )
    profile = cnn.profile_cnn(configs[0])
    assert profile["share"]["matrix products"] > 0
    assert sum(profile["share"].values()) == pytest.approx(1.0)
