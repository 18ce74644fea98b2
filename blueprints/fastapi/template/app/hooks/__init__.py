"""Your own code, one module per object: Shipyard writes each once and never rewrites it.

The generated routes call each module's before_/after_ functions; its `router` takes routes of
your own. `shipyard update` leaves everything in this folder as you left it.
"""
