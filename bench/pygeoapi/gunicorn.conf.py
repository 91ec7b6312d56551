"""Gunicorn settings for both servers of bench/ogc.py's peer comparison (our app and pygeoapi).

Named on the command line so that neither server picks up a gunicorn.conf.py from its working
directory (the project's own runs threaded workers for production): the two must be served alike.
"""
workers = 1
worker_class = "sync"
