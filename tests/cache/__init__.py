"""Cache management: ls, du, rm, prune, verify and the automatic quota."""
