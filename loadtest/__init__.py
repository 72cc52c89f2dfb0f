"""The load scenario, the gate and the pipeline runner.

Locust is only ever run as a subprocess (it monkey-patches the process with gevent):
nothing here imports it, except `loadtest/locustfile.py`, which Locust itself loads.
"""
