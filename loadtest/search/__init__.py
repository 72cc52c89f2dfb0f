"""The search: the cheapest configuration (replicas x CPU x memory) that holds the SLO, found by probes.

`search_options` layers a profile's `search:` block, the variables and the
flags; `grid` prices and orders the
configurations; `walk` names the next probe (the pass/fail boundary, walked from the most
replicas down, a failure ruling out what it covers); `probe` runs one configuration as a cell of
the engine with its early stop and judges it; `budget` keeps the whole within `--budget`; `memory`
turns the winner's peak into a limit; `capacity` bisects over users; `search` runs the phases and
records what each probe means in `state`; `search_summary` (with `records` and `chart`) builds
search.json, search.md and search.png from that state.

Nothing is imported here: the parser reads `search_options` without the walk, probes and charts.
"""
