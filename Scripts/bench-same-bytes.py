#!/usr/bin/env python3
"""Checks that two flashkvs-bench binaries do exactly the same flash traffic.

    python3 Scripts/bench-same-bytes.py BENCH_A BENCH_B

Runs both on ten configurations (K=100/1000/10000; redundancy 1-3;
alignment 64; checksum none; V=0/5/13/100) and compares the `flash`,
`setup_flash` and `final` JSON of each: the per-phase read/write/erase
counts and bytes, the per-sector erase spread and the re-opened store's
state. Use it to show that a core change keeps the reference's placement
and read pattern (e.g. before and after Scripts/bench-core-proposals.patch).
Exit status 0 when every configuration matches.
"""
import json
import subprocess
import sys

CONFIGURATIONS = [
    ["--workload", "update", "--ops", "20000", "--sectors", "16"],
    ["--workload", "mixed", "--ops", "20000", "--sectors", "16"],
    ["--workload", "init", "--ops", "10", "--sectors", "16"],
    ["--workload", "update", "--ops", "20000", "--keys", "1000", "--sectors", "64", "--max-entries", "1024"],
    ["--workload", "mixed", "--ops", "20000", "--keys", "1000", "--sectors", "64", "--max-entries", "1024"],
    ["--workload", "update", "--ops", "20000", "--keys", "10000", "--sectors", "256", "--max-entries", "16384"],
    ["--workload", "mixed", "--ops", "20000", "--keys", "37", "--value-size", "13", "--seed", "0xdeadbeef",
     "--sectors", "8", "--alignment", "64"],
    ["--workload", "update", "--ops", "5000", "--keys", "50", "--value-size", "0", "--seed", "7",
     "--redundancy", "2", "--sectors", "8"],
    ["--workload", "mixed", "--ops", "30000", "--keys", "200", "--value-size", "5", "--seed", "12345",
     "--max-entries", "1024", "--sectors", "32", "--checksum", "none", "--redundancy", "3"],
    ["--workload", "update", "--ops", "30000", "--keys", "300", "--value-size", "100", "--sectors", "16",
     "--redundancy", "2", "--max-entries", "512"],
]


def traffic(binary, arguments):
    result = subprocess.run([binary] + arguments, capture_output=True, text=True)
    data = json.loads(result.stdout)
    return {key: data[key] for key in ("flash", "setup_flash", "final", "verify")}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    differing = 0
    for arguments in CONFIGURATIONS:
        first, second = (traffic(binary, arguments) for binary in sys.argv[1:3])
        same = first == second
        differing += not same
        print("%-9s %s" % ("SAME" if same else "DIFFERENT", " ".join(arguments)))
        if not same:
            for key in first:
                if first[key] != second[key]:
                    print("  %s:\n    A %s\n    B %s" % (key, first[key], second[key]))
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
