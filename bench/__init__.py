"""`make bench`: the platform's performance beside baselines measured in the same run on the
same machine (see docs/benchmarks.md). Not part of `make test`."""
