import numpy as np
import pytest

from nn101 import metrics


def test_accuracy_from_scores_labels_and_one_hot():
    scores = np.array([[0.1, 0.9], [2.0, -1.0], [0.0, 1.0]])
    assert metrics.accuracy(scores, np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert metrics.accuracy(scores, np.eye(2)[[1, 0, 0]]) == pytest.approx(2 / 3)


def test_accuracy_for_binary_logits():
    logits = np.array([[1.5], [-0.2], [0.3]])
    assert metrics.accuracy(logits, np.array([1, 0, 0])) == pytest.approx(2 / 3)


def test_confusion_matrix_counts():
    m = metrics.confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), num_classes=3)
    assert m.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    assert m.sum() == 4


def test_accuracy_length_mismatch_is_an_error():
    with pytest.raises(
        ValueError, match=r"expected targets for \(2,\) predictions, got shape \(3,\)"
    ):
        metrics.accuracy(np.zeros((2, 3)), np.array([0, 1, 2]))
