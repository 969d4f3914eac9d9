"""Shared domain code for the AI Investment Agent."""
