// BulwarkOps: counters, sketches, insight, log limiting.
