"""The reference marketplace server; clients reach it over HTTPS only, never by import."""
