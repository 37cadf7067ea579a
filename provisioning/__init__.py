"""Teachers from the schools' own systems: SS 12000 sources per huvudman, the
sync, and the proposals a principal approves."""
