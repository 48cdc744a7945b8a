"""The seed's load test: many users on the 3-replica cluster (see README.md)."""
