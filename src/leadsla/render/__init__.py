"""Rendering results: text tables, JSON and CSV, charts, the SLA document, the HTML report."""
