"""The chat assistant: Anthropic Claude with the app's own data as tools."""
