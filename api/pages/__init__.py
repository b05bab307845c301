"""The pages for people (server-rendered HTML, English and Polish, offline) and the offline API docs."""

from api.pages.docs import install_docs
from api.pages.routes import router

__all__ = ["install_docs", "router"]
