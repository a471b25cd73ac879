"""Local emulators of the services dtm drives, for tests and an offline sandbox."""
