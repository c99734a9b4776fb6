"""Reports for people: Markdown pages and PNG plots of timelines (simulations, the demo's live run).

Rule: an adapter that writes files and draws; it computes nothing a decision depends on. It reads the
pure core's results (`scaleplane.scaling`) and imports no other adapter. matplotlib is imported inside
the drawing functions with the non-interactive Agg backend, so importing this package stays cheap and
never needs a display.
"""
