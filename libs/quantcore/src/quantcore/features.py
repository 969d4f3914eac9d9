"""Feature engineering shared by the trainer and the model server (placeholder, being written)."""
