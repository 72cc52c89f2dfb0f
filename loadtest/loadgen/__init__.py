"""The load generator's side of a measurement: when each user means to send, and what it recorded.

`pacing` (each user's open-loop schedule) and `recorder` (one Locust process's interval counts
and histograms) are pure and tested with a fake clock; `locust_users` and `locust_hooks` wire
them into Locust and are only ever imported by Locust (gevent patches the process).
"""
