"""Plumbing every part of the project shares: the service, its model and the load tooling.

Standard library only, so that every image can carry it: argparse types with clear messages
(`argtypes`) and files written so that a reader never sees half of one (`files`).
"""
