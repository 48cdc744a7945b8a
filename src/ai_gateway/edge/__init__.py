"""The HTTP edge: what a connection or a request may cost the process before any route
runs (head and body deadlines, connection and concurrency ceilings, body size, header
encoding), so one hostile peer cannot starve the others of descriptors or workers.

``protocol`` holds the per-connection part (inside uvicorn's httptools protocol),
``guard`` the per-request part (ASGI), ``server`` builds the uvicorn server with both.
"""
