"""Datasets: the Dataset container, batching, splits, transforms, and the datasets themselves."""

from nn101.data.dataset import Dataset, batch_indices

__all__ = ["Dataset", "batch_indices"]
