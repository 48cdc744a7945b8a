"""Services: the one owner of a resource, held by the ``Gateway``.

A service validates once, writes and audits through storage, and invalidates the running
process's caches of what it changed, so the API, the dashboard, the CLI and the jobs call
it instead of storage functions followed by a ``forget()`` each caller must remember.
"""
