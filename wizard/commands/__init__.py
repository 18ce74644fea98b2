"""The commands of `shipyard`, one thin module per group; wizard/cli.py registers them."""
