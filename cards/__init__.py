"""Model-card templates (Jinja Markdown) rendered by `registry.cards`."""

from pathlib import Path

CARDS_DIR = Path(__file__).parent
