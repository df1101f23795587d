"""The packages stay layered, cards < registry < learners < server < the application: no upward import (the
store client below the ML library, as huggingface_hub below transformers), none hidden behind a name either."""

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


def test_the_store_imports_nothing_of_the_library_above_it(tmp_path):
    """Not even at run time: reading, listing and resolving by kind load no module of `learners` (nor torch)."""
    code = ("import sys, registry\n"
            "from registry.format.kinds import learner_kinds\n"
            "from registry.format.metadata import checked_learner\n"
            "registry.list_learners(store=sys.argv[1])\n"
            "print(learner_kinds(), sorted({m.split('.')[0] for m in sys.modules} & {'learners', 'torch'}))\n")
    ran = subprocess.run([sys.executable, "-c", code, str(tmp_path / "store")], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.split() == ["[]", "[]"]
