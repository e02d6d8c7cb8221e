"""What each method does: sessions, tasks, graph, locks, worktrees, threads, merges."""
