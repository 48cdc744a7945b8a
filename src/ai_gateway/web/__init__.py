"""The dashboard: server-rendered pages (Jinja2, ``base.html`` + ``_partial.html``) over
the REST API, signed-in with an API key into a session cookie.

Modules: ``render`` (environments, the viewer, page errors), ``auth_views``,
``admin_views``, ``client_views`` and ``routes`` (``install_web``). The session cookie
lives in ``api.session`` (the API accepts it too) and languages, money and dates in
``ai_gateway.i18n`` (the API's CSV export uses them): this package sits above both.
"""
