"""The app's routes as requests reach them, included routers too.

FastAPI 0.16x keeps an included router's routes behind a proxy, so `app.routes` lists only
the app's own (`/docs`...): a walk over it checks nothing. Each item here has the full
`path`, the `methods` and the `dependant` (router-level dependencies included).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


def all_api_routes(app: FastAPI) -> list[Any]:
    """Every APIRoute of the app, with its effective path and dependencies."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # a FastAPI that flattens included routers into app.routes
        return [r for r in app.routes if isinstance(r, APIRoute)]
    routes = [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]
    assert routes, "no routes found: the walk itself is broken"
    return routes
