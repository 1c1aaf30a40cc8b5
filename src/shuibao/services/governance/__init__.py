"""Comprehensive governance (综合治理, 规划第五章): treatment patches, sloping farmland, scenarios."""
