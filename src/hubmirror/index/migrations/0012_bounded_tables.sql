-- what strangers can grow is kept to a number of rows, oldest forgotten first:
-- these indexes find the oldest rows without reading the whole table
CREATE INDEX api_answers_by_age ON api_answers (fetched_at);
CREATE INDEX api_answers_by_status ON api_answers (status, fetched_at);
CREATE INDEX missing_entries_by_age ON missing_entries (fetched_at);
CREATE INDEX repo_approvals_by_state ON repo_approvals (state, requested_at);
CREATE INDEX repo_approvals_by_asker ON repo_approvals (requested_by, requested_at);
