"""Services: the one owner of a concept, held by the ``Gateway`` or called with the parts it
needs. A setting's service validates a change once, writes it with its audit row in one
transaction, and invalidates the caches that hold it, so the API, the dashboard, the CLI
and the jobs call it instead of storage functions followed by a ``forget()`` each caller
must remember; a read service (analytics, metrics, budgets, cache, the request explorer,
the rollout gates) does the query, the tenant wall (``scope``) and the shaping, so a REST
route and its page give one answer (the route is a thin adapter, the page calls the
service, never the route)."""
