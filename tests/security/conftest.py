from tests.web.conftest import serve_web  # noqa: F401 - the dashboard server fixture, shared with tests/web
