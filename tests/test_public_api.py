"""Everything a user writes comes from the top-level package (nn101.Adam, nn101.OneCycle ...)."""

from __future__ import annotations

import importlib

import pytest

import nn101

MODULES = ["layers", "losses", "optimizers", "schedules", "training", "regularizers", "errors"]


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_is_exported_at_the_top(module_name):
    module = importlib.import_module(f"nn101.{module_name}")
    names = [n for n in getattr(module, "__all__", []) if n[0].isupper() or n.islower()]
    assert names, f"nn101.{module_name} declares no __all__"
    skip = {
        "get_loss",
        "LRFindResult",
        "fit",
        "evaluate",
        "predict",
        "as_dataset",
        "parameter_dtype",
    }
    missing = [
        n for n in names if n not in skip and getattr(nn101, n, None) is not getattr(module, n)
    ]
    assert not missing, f"not exported from nn101: {missing}"


def test_the_user_facing_names():
    for name in [
        "Parameter",
        "Layer",
        "Dense",
        "ReLU",
        "Sequential",
        "SoftmaxCrossEntropy",
        "SGD",
        "Adam",
        "OneCycle",
        "BatchNorm1d",
        "EarlyStopping",
        "load",
        "lr_find",
    ]:
        assert hasattr(nn101, name), name
    assert callable(nn101.gradcheck.check_layer)
    assert callable(nn101.data.load_digits)
