"""Process plumbing every ISS Tracker service shares."""
