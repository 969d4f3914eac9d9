"""The Flask JSON API of the AI Investment Agent."""
