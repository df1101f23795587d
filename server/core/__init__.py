"""What every route relies on: tokens and private repositories, checks of what a request names and sends, and
errors in the Hugging Face Hub's shape."""
