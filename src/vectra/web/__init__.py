"""The web app: API routers, pages, templates, static files."""
