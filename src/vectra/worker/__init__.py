"""The job worker: Procrastinate on the same PostgreSQL, periodic tasks."""
