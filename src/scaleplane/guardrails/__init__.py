"""Policy rules as plain validator functions, plus an offline runner over a recorded plan.

Rule: rules are pure functions of resource inputs; only policies/__main__.py builds the PolicyPack.
"""
