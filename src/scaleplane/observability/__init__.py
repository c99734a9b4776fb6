"""Grafana dashboard and Prometheus alert-rule builders."""
