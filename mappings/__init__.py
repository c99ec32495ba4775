"""Shipped mapping files (YAML). Copy one into your own mappings folder and edit it there."""
