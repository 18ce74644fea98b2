"""The commands of `shipyard`, one thin module per group.

Each module defines its commands as plain functions plus `register(app)`; wizard/cli.py
registers every module and owns the one place where exceptions become exit codes. To add
a command, write it in the module it belongs to (or a new one listed in wizard/cli.py):
parse options, load or build the spec, call the core, print data on stdout.
"""
