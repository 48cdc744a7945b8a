"""Pure rules, below storage: budget periods on a client's calendar, what a budget's
settings must be, the thresholds a call crosses, plan ceilings, the money scale.

Nothing here does I/O or imports another layer (``ai_gateway.errors`` aside), so storage,
metering, the pipeline and the services all apply the same rules, and a rule can be tested
without a database.
"""
