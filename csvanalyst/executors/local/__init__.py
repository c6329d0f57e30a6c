"""The local backend: the runner as a child process, under bubblewrap, unshare or nothing, with warm workers."""
