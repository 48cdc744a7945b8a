"""``python -m benchmarks.load``: see :mod:`benchmarks.load.run`."""

from benchmarks.load.run import main

main()
