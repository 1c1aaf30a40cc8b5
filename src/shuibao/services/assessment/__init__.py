"""Assessment (目标责任考核) and the plan's targets: conservation rates against 专栏1, progress against the
plan's quantities, district target-responsibility assessment."""
