"""The scaleplane policy pack: only builds the PolicyPack; the rules live in scaleplane.guardrails."""

from pulumi_policy import PolicyPack

from scaleplane.guardrails import pack

PolicyPack(name="scaleplane-guardrails", policies=pack.policies())
