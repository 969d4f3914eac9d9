"""Runs the local stack as plain processes: PostgreSQL, the S3 emulator and the services."""
