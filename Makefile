# One command per job; CI runs the same commands.
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

.PHONY: book book-serve test lint clean

# Execute every chapter (fails if a cell raises) and build the site into build/site/.
book:
	$(PYTHON) book/build.py

# Serve the built site on http://127.0.0.1:8000/ (run `make book` first).
book-serve:
	$(PYTHON) -m http.server --bind 127.0.0.1 --directory build/site 8000

test:
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check src tests benchmarks examples
	$(PYTHON) -m mypy src

clean:
	rm -rf build
