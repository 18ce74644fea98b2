"""Signing in: sessions and tokens shared by every login method, one module per method's steps."""
