"""Services: each owns one concept end to end (validate, read or write, audit, invalidate
its caches), between the HTTP layers (api, web) above and the pipeline and storage below."""
