"""Celery app and tasks: `celery -A workers.main worker` and `celery -A workers.main beat`."""
