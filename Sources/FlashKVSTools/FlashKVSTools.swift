// Placeholder; the host tools library is being written (issue 5).
