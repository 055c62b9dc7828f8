// Placeholder; the Embedded smoke file is being written (issue 6).
