"""Course tooling for nncourse: release, autograde and other instructor commands."""
