"""Monitoring stations and warning (监测站点与预警, 规划第七章 / 专栏4): the registry, daily observations,
annual summaries and rain warnings tied to the sites at risk."""
