"""Permission rules compiled from the spec: one module per object (shared.py holds what they share).

Nothing is imported here: `from app.policies import <object module>` must always find the module.
"""
