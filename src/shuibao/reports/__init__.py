"""Reports generated from stored data: the annual bulletin (HTML now; PDF, maps and charts to follow)."""
