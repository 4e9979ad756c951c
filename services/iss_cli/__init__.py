"""The iss-tracker command line: status of a local stack or a cluster."""
