"""The dashboard: HTML pages for people, next to the Hub API for programs.

Server-rendered pages (numbers are right without JavaScript), a little vanilla JS that polls
``/dashboard/api/status`` every second, and no asset from anywhere but this mirror. The
pages read the Mirror facade only; the server hands in the request's base URL and the
admin token, so this package never reads settings.
"""
