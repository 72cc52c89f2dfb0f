"""One module per `python -m loadtest` subcommand; each exposes `register(subparsers)`."""
