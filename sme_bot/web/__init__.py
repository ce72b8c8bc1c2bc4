"""The owners' web pages: `sme-bot serve` (Starlette under uvicorn), server-rendered, no JavaScript.

`app.py` wires the app, `owners.py` holds the routes, `pages.py` the templates' data, `svg.py`
the result chart, `security.py` the cookie, CSRF, headers and limits, `serve.py` the listening.
Every rule of an assessment is the service's; these modules only show pages and read forms.
"""
