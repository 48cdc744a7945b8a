"""Services: the one owner of a kind of setting. Each validates a change once, writes it
with its audit row in one transaction, and invalidates the caches that hold it, so no
other module has to remember to."""
