"""Scheduled jobs and the leader lock."""
