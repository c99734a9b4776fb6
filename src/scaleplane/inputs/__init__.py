"""The one strict input layer: how every file a user hands scaleplane is read and how it is refused.

Rule: pure. Text in, plain data (with the line of every field) or one clear problem out; no file or
network I/O, no clock. The bottom layer: scaling, infra, guardrails and the CLI all read through it, so a
policy, a stack config, a policy config and a trace are refused the same way:
`FILE:LINE: field.path: what is wrong, was VALUE (fix)`.
"""
