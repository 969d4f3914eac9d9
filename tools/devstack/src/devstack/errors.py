class StackError(RuntimeError):
    """Something in the local stack cannot start or be reached; the message says what."""
