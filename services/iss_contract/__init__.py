"""Message contracts shared by every ISS Tracker component."""
