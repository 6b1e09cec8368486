"""The WSGI entry point: `gunicorn wsgi:app`."""

from application import create_app

app = create_app()
