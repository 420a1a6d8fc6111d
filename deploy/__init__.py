"""Serving a class: replicas behind nginx (classroom.py), the nginx template and systemd unit examples."""
