"""Store-bound views for the API, the command line and the pages, cached per data version."""
