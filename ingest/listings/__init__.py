"""A territory's own listings: real estate, jobs, businesses to take over, leisure, places."""
