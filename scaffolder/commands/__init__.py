"""One module per subcommand; each exposes ``command`` and stays thin."""
