"""Shuibao (水保): a soil and water conservation platform.

The monitoring, supervision and planning system described in Chongqing's
14th Five-Year Soil and Water Conservation Plan (2021–2025).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("shuibao")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
