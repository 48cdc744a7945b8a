"""The gateway's own latency overhead, measured against a fake upstream on loopback.

``python -m benchmarks.overhead --help``; see README.md in this folder.
"""
