"""The annual monitoring run: its spec, reporting units and blockwise kernels (no file I/O)."""
