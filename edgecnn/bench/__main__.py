"""`python -m edgecnn.bench --rss-probe ...`: the memory probe process the benchmark starts."""

import sys

from edgecnn.bench.cli import probe_main

sys.exit(probe_main(sys.argv[1:]))
