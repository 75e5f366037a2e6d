"""Figures aggregated in SQL, charts and Excel exports."""
