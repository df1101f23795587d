#!/usr/bin/env python3
"""Import graph of the project's packages, read with ast (function-local imports included).
Prints upward imports (a lower layer importing a higher one), file-level cycles, and modules over a size.
Usage: python3 tools/check_layers.py . [max_lines]  (from the project root; `make lint` runs it)
(exit 1 when anything is found)"""
import ast
import sys
from pathlib import Path

root = Path(sys.argv[1]).resolve()
max_lines = int(sys.argv[2]) if len(sys.argv) > 2 else 350
# Layers, lowest first: cards < learners < registry < server < any other top-level package (the application,
# e.g. the command line), as ../shared/tools/check_layers.py has them. cards holds the learner file format and the
# model card (cards/format/, cards/model_card/) that every layer reads; the ML library reaches the store above it
# only through the store's registration (learners/store_access.py).
# A design that adds a package *below* the others adds it here with a lower number.
LAYERS = {"cards": 0, "learners": 1, "registry": 2, "server": 3}
skip = {"tests", "benchmarks", ".venv", ".git", "build", "dist"}
files = [p for p in root.rglob("*.py") if not (set(p.relative_to(root).parts) & skip)]
mod_of = {}
for p in files:
    parts = list(p.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    mod_of[".".join(parts)] = p
def layer(mod):
    top = mod.split(".")[0]
    return LAYERS.get(top, 9 if (root / top / "__init__.py").exists() else None)
edges, problems = {}, []
for mod, p in mod_of.items():
    tree = ast.parse(p.read_text(), str(p))
    pkg = mod if p.name == "__init__.py" else mod.rpartition(".")[0]
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets.add(base)
            targets |= {f"{base}.{a.name}" for a in node.names}
    targets = {t for t in targets if t in mod_of and t != mod}
    edges[mod] = targets
    lo = layer(mod)
    for t in targets:
        lt = layer(t)
        if lo is not None and lt is not None and lt > lo:
            problems.append(f"upward import: {mod} -> {t}")
    n = len(p.read_text().splitlines())
    if n > max_lines:
        problems.append(f"long module: {p.relative_to(root)} {n} lines")
# file-level cycles (package __init__ re-exports excluded: an __init__ importing its own submodules is not a cycle)
def real(a, b):
    return not (mod_of[a].name == "__init__.py" and b.startswith(a + "."))
index, low, stack, on, out, i = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = i[0]
    i[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges[v]:
        if not real(v, w):
            continue
        if w not in index:
            strong(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            out.append(sorted(comp))
sys.setrecursionlimit(10000)
for v in list(edges):
    if v not in index:
        strong(v)
problems += [f"import cycle: {' <-> '.join(c)}" for c in out]
print("\n".join(problems) if problems else "layered: no upward import, no cycle, no long module")
print(f"{len(problems)} structure problems in {len(mod_of)} modules")
sys.exit(1 if problems else 0)
