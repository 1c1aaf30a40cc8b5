"""Command line interface (typer): thin commands over :mod:`shuibao.services`."""
