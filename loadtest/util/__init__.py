"""Plumbing shared by the gate, the report and the runner: files, units, tables, text."""
