"""What a learner says about itself, below every other package: the learner file format (`format/`: learner.json,
identity, kinds table, evaluation records) and the model card rendered from it (`model_card/`, with the Jinja
Markdown templates in this folder). The ML library writes both when it saves a learner; the store and the server
read them."""

from pathlib import Path

CARDS_DIR = Path(__file__).parent
