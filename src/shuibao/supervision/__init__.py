"""Supervision of production and construction projects (生产建设项目水土保持监管).

Domain logic without I/O: compliance rules, the case ledger's state machine,
traffic-light scoring, fees, random inspection draws and credit lists.  The
store and the services layer persist and orchestrate them.
"""
