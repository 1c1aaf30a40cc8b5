"""The imports' shared field mapping (字段映射): the fields each import expects, a file's columns, and the
mappings officers gave, remembered per import kind and source (:mod:`.mappings`)."""
