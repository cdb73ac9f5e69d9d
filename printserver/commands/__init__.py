"""One module per `printserver` subcommand; each exposes `add_parser(subparsers)`."""
