"""Reading what the repository says: apps, Services, routes, databases, policies."""
