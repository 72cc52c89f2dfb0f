"""What each heavy subcommand does once its options are parsed (`handle(args) -> exit code`).

Apart from `loadtest.commands.<name>` (its options, help and parser) so that building the parser
imports none of this; `loadtest.commands.lazy.Deferred` imports a handler when its command runs.
"""
