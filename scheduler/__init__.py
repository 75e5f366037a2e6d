"""The job scheduler of a server process: APScheduler, a leader lock, and the scheduled jobs."""
