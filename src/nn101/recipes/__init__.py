"""Recipes: the model and the training settings ``nn101 train`` uses for each dataset.

A recipe turns a dataset's shapes into a model and says how to fit it (epochs, batch size,
optimizer, learning rate and its schedule). One module per model family: ``mlp`` (dense
networks), ``cnn`` (convolutional), ``char`` (character models); ``FitSettings``
(``settings``) is shared by all of them.
"""

from nn101.recipes.char import CharSettings, build_char_lstm, generate
from nn101.recipes.cnn import CNN_RECIPES, CNNRecipe, augment_training_set, build_cnn, cnn_recipe
from nn101.recipes.mlp import MLP_RECIPES, MLPRecipe, build_mlp, mlp_recipe, parse_hidden
from nn101.recipes.settings import SCHEDULES, FitSettings

__all__ = [
    "CNNRecipe",
    "CNN_RECIPES",
    "augment_training_set",
    "build_cnn",
    "cnn_recipe",
    "CharSettings",
    "build_char_lstm",
    "generate",
    "FitSettings",
    "MLPRecipe",
    "MLP_RECIPES",
    "SCHEDULES",
    "build_mlp",
    "mlp_recipe",
    "parse_hidden",
]
