"""Browsing learners: the catalog with its metrics, the browse API (JSON), the web pages and their templates."""
