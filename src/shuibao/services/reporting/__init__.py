"""Reporting (公报与信息公开): the annual bulletin and the web platform's read models."""
