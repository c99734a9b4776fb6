"""The embedded single-machine platform: starts and supervises real servers and workers.

Rule: an entry point like the operator; composes scaling + metrics + targets around real processes on
127.0.0.1. Every process it starts is tracked by PID and process group and ended on the way out.
"""
