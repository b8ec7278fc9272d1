"""The GIL audit: which imports turn the GIL back on under 3.14t."""
