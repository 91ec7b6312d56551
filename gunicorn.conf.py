"""Gunicorn settings, read from the working directory: production (docker/) and the reliability battery.

Threaded workers: a long request (a 5,000-row import takes minutes) never keeps a worker from
telling the arbiter it is alive. Sync workers are killed after `timeout` seconds inside one
request, which ended every large import through /imports/ half-way (rolled back, never finished).
"""
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
