"""The pages for people (server-rendered HTML, English and Polish, offline) and the offline API docs."""

from api.pages.docs import install_docs
from api.pages.ideas import router as ideas_router
from api.pages.routes import router

router.include_router(ideas_router)

__all__ = ["install_docs", "router"]
