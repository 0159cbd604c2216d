"""What a request gets: a file's commit, entry and blob for ``/resolve/``, JSON API answers,
and the upstream questions behind them, asked once, within a deadline, and kept."""
