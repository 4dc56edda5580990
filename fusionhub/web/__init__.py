"""The analyst workspace: server-rendered pages (Jinja2 + htmx), assets served by the app."""
