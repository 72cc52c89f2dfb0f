"""Exact latency figures: HdrHistogram buckets, the histogram file a run leaves, and its reader.

Pure (no Locust): the gate, the report and the timeline import it; so does the Locust side
(`loadtest/loadgen/`), which records into the same buckets and writes the file.
"""
