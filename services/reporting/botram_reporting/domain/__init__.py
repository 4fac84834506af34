"""Reporting's rules, without I/O: how events become aggregates and fact rows (`aggregates`,
`facts`), how facts become reports (`reports`) and demand rankings (`demand`)."""
