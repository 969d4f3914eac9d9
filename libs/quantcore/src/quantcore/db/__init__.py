"""PostgreSQL schema shared by the trainer and the api, with its Alembic migrations."""
