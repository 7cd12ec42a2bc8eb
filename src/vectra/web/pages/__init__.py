"""Server-rendered pages (Jinja2 + htmx), built on the same services as the API."""
