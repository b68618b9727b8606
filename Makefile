# One command per job; CI runs the same commands.
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

.PHONY: book book-serve notebooks test lint clean

# Execute every chapter (fails if a cell raises, or if a chapter's dataset is not on disk: set
# NN101_DATA_DIR, e.g. `make book NN101_DATA_DIR=../shared/data`) and build the site into
# build/site/ (open build/site/index.html, or `make book-serve` for search too).
book:
	$(PYTHON) book/build.py

# Write every chapter as a notebook (not executed) into notebooks/: what the Colab links open.
notebooks:
	$(PYTHON) book/build.py --notebooks

# Serve the built site on http://127.0.0.1:8000/ (run `make book` first; search needs this).
book-serve:
	$(PYTHON) -m http.server --bind 127.0.0.1 --directory build/site 8000

test:
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check src tests benchmarks examples
	$(PYTHON) -m mypy src

clean:
	rm -rf build
