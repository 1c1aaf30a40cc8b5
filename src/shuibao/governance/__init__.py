"""Comprehensive governance (综合治理): treatment patches, measures and their effect on the CSLE factors,
progress against the plan's quantities (专栏3), and candidates such as sloping farmland."""
