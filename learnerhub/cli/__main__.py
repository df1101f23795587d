"""`python -m learnerhub.cli ...` (what `accelerate launch -m learnerhub.cli build ...` runs)."""

import sys

from learnerhub.cli.main import main

sys.exit(main())
