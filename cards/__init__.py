"""Model-card templates (Jinja Markdown) rendered by `registry.model_card.render`."""

from pathlib import Path

CARDS_DIR = Path(__file__).parent
