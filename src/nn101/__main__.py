"""``python -m nn101`` runs the command-line interface."""

import sys

from nn101.cli import main

sys.exit(main())
