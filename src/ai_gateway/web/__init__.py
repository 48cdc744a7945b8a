"""The dashboard: server-rendered pages (Jinja2, ``base.html`` + ``_partial.html``) over
the REST API, signed-in with an API key into a session cookie.

Modules: ``session`` (cookie + CSRF), ``i18n`` (Babel catalogs, money, dates),
``render`` (environments, the viewer, page errors), ``auth_views``, ``admin_views``,
``client_views`` and ``routes`` (``install_web``). Nothing is imported here, so
``api.deps`` can use ``web.session`` without a cycle.
"""
