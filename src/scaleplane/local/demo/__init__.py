"""`scaleplane demo`: a load profile on the local platform, watched live, written up as a report.

Rule: drives the platform from outside, as a user would (HTTP load, Celery jobs), records what is already
in memory once a second, and turns the recording into report.md with PNG timelines. The report's
comparison with the HPA replays the recorded load through the pure simulator; nothing here decides a
replica count.
"""
