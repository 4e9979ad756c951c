"""The local development and test stack: real services as local processes."""
