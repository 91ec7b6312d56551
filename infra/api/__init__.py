"""The REST and GeoJSON API: routing, parameter checks and schema; data comes from selectors."""
