"""Monitoring stations (监测站点): registry, observation quality control, rainfall erosivity, warnings."""
