"""Supervision of production and construction projects (生产建设项目监管, 规划第六章): projects, disturbance
patches and their detection, compliance analysis, the case ledger, programmes (inspections, monitoring
reports, acceptance, fees, credit) and the year in numbers."""
