"""Price tables, estimates, attribution of autoscaling spend, reports."""
