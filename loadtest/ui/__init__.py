"""`python -m loadtest ui`: one cell under limits, Locust's web UI on it, and the gate after every test.

The cell starts as a cell of `run` does (same backend, limits enforced and read back, replicas
ready); then Locust runs with its web UI, the start form pre-filled with the profile's users and
spawn rate. Tests are started and stopped from the UI; each stopped test is judged into
`<cell>/test-N/`. One concept a module:

- `ui_options`: the options of `ui` (the profile, the variables and the flags layered) for one cell
  (`UiOptions`, `UiConfig`, `ui_config`);
- `detection`: which test Locust is in, from its web API's answers (`SessionTests`);
- `capture`: a stopped test's rows, cut out of the session's history (read by the gate's one reader);
- `judging`: a stopped test's folder and run.json, judged by the cell engine;
- `view`: what the terminal shows;
- `session`: the loop that ties them to the cell's replicas and Locust (`Session`).

Nothing is imported here: the parser reads `ui_options` (and `stats` its default folder) without
the session's engine.
"""
