"""Who may be served what: callers and mirror tokens, allow/deny lists and approvals,
upstream's word on gated and private repos, what the dashboard may name, the audit log."""
