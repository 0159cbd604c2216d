-- one repo, one identity: the Hub matches repo ids without case, so every row now names a
-- repo by its lower-case id (RepoId.canonical). Rows stored under other spellings move to
-- that id. Where two spellings both have a row, the lower-case one is kept, except where
-- access depends on it: an operator's deny wins over an approval, an approval over a
-- pending request, and spellings that disagree on visibility leave it 'unknown'.
-- Written in SQL both databases accept.

CREATE INDEX repos_by_lower_id ON repos (repo_type, lower(repo_id));
CREATE INDEX approvals_by_lower_id ON repo_approvals (repo_type, lower(repo_id));

-- visibility ------------------------------------------------------------------------------
INSERT INTO repos (repo_type, repo_id, visibility, checked_at)
SELECT repo_type, lower(repo_id), visibility, checked_at FROM repos
WHERE repo_id <> lower(repo_id)
ON CONFLICT DO NOTHING;

UPDATE repos SET visibility = 'unknown'
WHERE repo_id = lower(repo_id) AND EXISTS (
    SELECT 1 FROM repos o
    WHERE o.repo_type = repos.repo_type AND lower(o.repo_id) = repos.repo_id
      AND o.visibility <> repos.visibility
);

DELETE FROM repos WHERE repo_id <> lower(repo_id);

-- answers stored before visibility needed an explicit "private: false, gated: false"
-- are asked again on the next request (an outage still falls back to them)
UPDATE repos SET checked_at = 0;

-- operators' decisions: the requests of every spelling are counted together ------------------
UPDATE repo_approvals SET
    requests = (
        SELECT sum(o.requests) FROM repo_approvals o
        WHERE o.repo_type = repo_approvals.repo_type AND lower(o.repo_id) = repo_approvals.repo_id
    )
WHERE repo_id = lower(repo_id) AND EXISTS (
    SELECT 1 FROM repo_approvals o
    WHERE o.repo_type = repo_approvals.repo_type AND lower(o.repo_id) = repo_approvals.repo_id
      AND o.repo_id <> repo_approvals.repo_id
);

INSERT INTO repo_approvals (
    repo_type, repo_id, state, requested_at, requested_by, requests, decided_at, decided_by
)
SELECT repo_type, lower(repo_id), state, requested_at, requested_by,
       (
           SELECT sum(o.requests) FROM repo_approvals o
           WHERE o.repo_type = a.repo_type AND lower(o.repo_id) = lower(a.repo_id)
       ),
       decided_at, decided_by
FROM repo_approvals a WHERE repo_id <> lower(repo_id)
ON CONFLICT DO NOTHING;

UPDATE repo_approvals SET
    state = 'denied',
    decided_at = (
        SELECT max(o.decided_at) FROM repo_approvals o
        WHERE o.repo_type = repo_approvals.repo_type AND lower(o.repo_id) = repo_approvals.repo_id
          AND o.state = 'denied'
    ),
    decided_by = (
        SELECT max(o.decided_by) FROM repo_approvals o
        WHERE o.repo_type = repo_approvals.repo_type AND lower(o.repo_id) = repo_approvals.repo_id
          AND o.state = 'denied'
    )
WHERE repo_id = lower(repo_id) AND state <> 'denied' AND EXISTS (
    SELECT 1 FROM repo_approvals o
    WHERE o.repo_type = repo_approvals.repo_type AND lower(o.repo_id) = repo_approvals.repo_id
      AND o.state = 'denied'
);

UPDATE repo_approvals SET
    state = 'approved',
    decided_at = (
        SELECT max(o.decided_at) FROM repo_approvals o
        WHERE o.repo_type = repo_approvals.repo_type AND lower(o.repo_id) = repo_approvals.repo_id
          AND o.state = 'approved'
    ),
    decided_by = (
        SELECT max(o.decided_by) FROM repo_approvals o
        WHERE o.repo_type = repo_approvals.repo_type AND lower(o.repo_id) = repo_approvals.repo_id
          AND o.state = 'approved'
    )
WHERE repo_id = lower(repo_id) AND state = 'pending' AND EXISTS (
    SELECT 1 FROM repo_approvals o
    WHERE o.repo_type = repo_approvals.repo_type AND lower(o.repo_id) = repo_approvals.repo_id
      AND o.state = 'approved'
);

DELETE FROM repo_approvals WHERE repo_id <> lower(repo_id);

DROP INDEX repos_by_lower_id;
DROP INDEX approvals_by_lower_id;

-- tokens upstream confirmed: confirmed for one spelling is confirmed for the repo -------------
INSERT INTO access_grants (fingerprint, repo_type, repo_id, confirmed_at)
SELECT fingerprint, repo_type, lower(repo_id), confirmed_at FROM access_grants
WHERE repo_id <> lower(repo_id)
ON CONFLICT DO NOTHING;
DELETE FROM access_grants WHERE repo_id <> lower(repo_id);

-- what upstream said: the same answers under any spelling ------------------------------------
INSERT INTO revisions (repo_type, repo_id, revision, commit_sha, fetched_at)
SELECT repo_type, lower(repo_id), revision, commit_sha, fetched_at FROM revisions
WHERE repo_id <> lower(repo_id)
ON CONFLICT DO NOTHING;
DELETE FROM revisions WHERE repo_id <> lower(repo_id);

INSERT INTO entries (repo_type, repo_id, commit_sha, path, size, etag, lfs, sha256)
SELECT repo_type, lower(repo_id), commit_sha, path, size, etag, lfs, sha256 FROM entries
WHERE repo_id <> lower(repo_id)
ON CONFLICT DO NOTHING;
DELETE FROM entries WHERE repo_id <> lower(repo_id);

INSERT INTO missing_entries (repo_type, repo_id, commit_sha, path, fetched_at)
SELECT repo_type, lower(repo_id), commit_sha, path, fetched_at FROM missing_entries
WHERE repo_id <> lower(repo_id)
ON CONFLICT DO NOTHING;
DELETE FROM missing_entries WHERE repo_id <> lower(repo_id);

INSERT INTO snapshots (repo_type, repo_id, commit_sha, info, tree, fetched_at)
SELECT repo_type, lower(repo_id), commit_sha, info, tree, fetched_at FROM snapshots
WHERE repo_id <> lower(repo_id)
ON CONFLICT DO NOTHING;
DELETE FROM snapshots WHERE repo_id <> lower(repo_id);

-- an answer's key starts with /api/{type}s/{repo_id}: that part takes the lower-case id
INSERT INTO api_answers (key, repo_type, repo_id, status, body, link_next, fetched_at)
SELECT '/api/' || repo_type || 's/' || lower(repo_id)
           || substr(key, length(repo_type) + length(repo_id) + 8),
       repo_type, lower(repo_id), status, body, link_next, fetched_at
FROM api_answers
WHERE repo_id <> lower(repo_id)
  AND substr(key, 1, length(repo_type) + length(repo_id) + 7)
      = '/api/' || repo_type || 's/' || repo_id
ON CONFLICT DO NOTHING;
DELETE FROM api_answers WHERE repo_id <> lower(repo_id);

-- the audit log: the records of every spelling under the one id
UPDATE audit SET repo_id = lower(repo_id) WHERE repo_id <> lower(repo_id);
