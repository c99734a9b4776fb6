"""Disaster-recovery drills: the engine that runs a scenario and measures RTO and RPO."""
