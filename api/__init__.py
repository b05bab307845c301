"""The helixmap HTTP API (FastAPI): search, profiles, networks, regions, maps."""
