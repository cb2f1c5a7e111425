"""Offline certification exams: packages, sittings, submissions and certificates."""
