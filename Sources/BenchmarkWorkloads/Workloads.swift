// Placeholder; the benchmark workloads are being written (issue 7).
