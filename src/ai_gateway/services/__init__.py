"""Services: the one owner of a kind of setting, held by the ``Gateway``. Each validates
a change once, writes it with its audit row in one transaction, and invalidates the caches
that hold it, so the API, the dashboard, the CLI and the jobs call it instead of storage
functions followed by a ``forget()`` each caller must remember."""
