"""The method registry: one declaration per method, from which every surface is made."""
