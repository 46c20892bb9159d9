"""The HTML report: one self-contained file (Plotly's JavaScript inlined), PNG chart copies."""
