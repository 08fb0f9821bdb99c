"""What commands do, end to end: scaffold, init/upgrade, verify."""
