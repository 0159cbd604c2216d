-- traffic over time, for the dashboard's chart and `hubmirror stats`: every worker and
-- node adds its counts of the last few seconds to the row of the hour (and, per repo, of
-- the day) they fell in; rows older than the chart shows (60 days) are deleted
CREATE TABLE traffic_hours (
    hour INTEGER NOT NULL,
    from_cache INTEGER NOT NULL DEFAULT 0,
    from_upstream INTEGER NOT NULL DEFAULT 0,
    served INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    hits INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour)
);
CREATE TABLE traffic_repos (
    day INTEGER NOT NULL,
    repo_type TEXT NOT NULL,
    repo_id TEXT NOT NULL,
    served INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, repo_type, repo_id)
);
