"""OGC API – Features Part 1 (core, GeoJSON, HTML) over the register's layers."""
