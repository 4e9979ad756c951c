"""The physics every package shares, written once: the Earth's shape, the sun's position, the
geometry of a sub-satellite point, SGP4's frame, and element sets. Pure functions, no I/O."""
