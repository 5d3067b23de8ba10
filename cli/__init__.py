"""The command line: the run command and its progress lines (above the Dagster wiring in assets/)."""
