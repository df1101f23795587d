"""The packages stay layered, cards < learners < registry < server < the application: no upward import (the
library reaches the store above it only through the store's registration), none hidden behind a name either."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_upward_import_and_no_cycle():
    checked = subprocess.run([sys.executable, str(ROOT / "tools" / "check_layers.py"), str(ROOT)],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("layered: no upward import, no cycle")


def test_the_store_loads_no_torch_and_offers_itself_to_the_library(tmp_path):
    """Reading, listing and resolving by kind load no torch: `import registry` takes only the library's light top
    (the kinds' registrations and the store seam), and registers itself as the library's learner store."""
    code = ("import sys, registry\n"
            "from cards.format.kinds import learner_kinds\n"
            "from learners.store_access import learner_store\n"
            "registry.list_learners(store=sys.argv[1])\n"
            "print(','.join(learner_kinds()), 'torch' in sys.modules, learner_store() is registry.learner_store)\n")
    ran = subprocess.run([sys.executable, "-c", code, str(tmp_path / "store")], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.split() == ["igf,igf_text,streaming", "False", "True"]
