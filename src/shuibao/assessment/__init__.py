"""District target-responsibility assessment (水土保持目标责任考核): an indicator tree as data, scored from the
platform's records with the evidence behind every score."""
