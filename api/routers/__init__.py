"""The API's routers, one module per group of endpoints; `api.app.create_app` includes them."""
