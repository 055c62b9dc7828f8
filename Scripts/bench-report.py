#!/usr/bin/env python3
"""Regenerates BENCHMARKS.md with one command, side by side with a reference bench.

    python3 Scripts/bench-report.py [--rounds N] [--repeat R] [--no-callgrind] [--output FILE]
                                    [--reference CMD [ARG...]]

Builds flashkvs-bench in release mode (Scripts/bench-build.sh) and checks it
with shared/bench/workload_ref.py --check. With `--reference CMD...` (a
benchmark command of the same contract, e.g. the C++ pw_kvs built outside this
repository; it must be the last option), the reference is checked the same way
and every figure is measured for both, side by side in this one run:

* throughput: every workload of every configuration below is run `--rounds`
  times per implementation, the two taking turns (the order alternates from
  round to round), each run with `--repeat R` (median of R timed phases); a
  figure is the median over the rounds, and the ratio's spread over the rounds
  (each round's ratio compares two adjacent runs) is printed beside it;
* instructions per get and per put (valgrind --tool=callgrind, collected only
  inside the store's top-level call: `--toggle-collect` on FlashKVS's
  specialized `KeyValueStore.get`/`put` that the benchmark calls, and on
  pw_kvs's `KeyValueStore::Get`/`PutBytes`), as the difference of a
  10,000-op and a 30,000-op run divided by 20,000 (setup, verification and
  process start cancel out), at K=100, 1000 and 10000; per function, the same
  difference gives "where the time goes";
* flash traffic per operation (calls and bytes of reads, writes and erases),
  from the timed phase of the runs above;
* the device code and RAM against issue 21's budget, from
  Scripts/embedded-footprint.sh (not evaluated where it cannot run).

Then the targets of issue 19 are evaluated, each with a verdict. Without
`--reference` the report says so and shows FlashKVS's figures alone, without
ratios. The hand-written notes of Scripts/bench-notes.md are appended.

The raw JSON of every run and the callgrind profiles are kept in
.build-bench/bench-report/.
"""
import argparse
import collections
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_BENCH = os.path.join(os.path.dirname(ROOT), "shared", "bench")
WORKLOAD_REF = os.path.join(SHARED_BENCH, "workload_ref.py")
OUT_DIR = os.path.join(ROOT, ".build-bench", "bench-report")

# (title, keys, sectors, max-entries, [(workload, ops)]); 4 KiB sectors,
# alignment 16, V=32, seed 1, crc16, redundancy 1 everywhere. K=10000 runs
# init 10 times only: the reference re-reads 10000 entries with a linear key
# search per entry (about 36 ms per init).
CONFIGURATIONS = [
    ("K=100, 16 sectors", 100, 16, 256,
     [("fill", 0), ("update", 100000), ("read", 100000), ("mixed", 100000), ("init", 1000)]),
    ("K=1000, 64 sectors", 1000, 64, 1024,
     [("update", 100000), ("read", 100000), ("mixed", 100000), ("init", 1000)]),
    ("K=10000, 256 sectors", 10000, 256, 16384,
     [("update", 100000), ("read", 100000), ("mixed", 100000), ("init", 10)]),
]
GEOMETRY = {keys: (sectors, max_entries) for _, keys, sectors, max_entries, _ in CONFIGURATIONS}
CALLGRIND_OPS = (10000, 30000)
CALLGRIND_KEYS = (100, 1000, 10000)
OPERATIONS = (("get", "read"), ("put", "update"))  # (store call, workload that calls it)

# Issue 19's targets.
SPEED_TARGETS = [(100, "update", 2.0), (100, "read", 2.0), (100, "mixed", 2.0), (100, "init", 2.0),
                 (1000, "update", 3.0), (1000, "read", 3.0)]
INSTRUCTION_TARGETS = [("get", 0.5), ("put", 0.6)]  # at K=100
FLAT_GET_LIMIT = 1.3  # get cost at K=10000 over K=100


def run(command, **kwargs):
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, **kwargs)


def build():
    result = run(["bash", "Scripts/bench-build.sh"], env=dict(os.environ, BENCH_SCRATCH=".build-bench"))
    if result.returncode != 0:
        sys.exit("build failed:\n" + result.stderr[-4000:])
    return result.stdout.strip().splitlines()[-1]


def executable_of(command):
    """The ELF file of a command (its first word, looked up on PATH)."""
    path = shutil.which(command[0]) or command[0]
    return os.path.realpath(path)


# --- Running the benchmarks --------------------------------------------------

def bench_args(workload, ops, keys, repeat):
    sectors, max_entries = GEOMETRY[keys]
    return ["--workload", workload, "--ops", str(ops), "--keys", str(keys), "--value-size", "32", "--seed", "1",
            "--sectors", str(sectors), "--sector-size", "4096", "--alignment", "16",
            "--max-entries", str(max_entries), "--repeat", str(repeat)]


def bench(command, workload, ops, keys, repeat, tag, round_index):
    args = command + bench_args(workload, ops, keys, repeat)
    result = run(args)
    try:
        data = json.loads(result.stdout)
    except json.JSONDecodeError:
        sys.exit("bench failed: %s\n%s" % (" ".join(args), result.stderr[-2000:]))
    if data.get("verify") != "ok":
        sys.exit("bench did not verify: %s\n%s" % (" ".join(args), data.get("verify_errors")))
    with open(os.path.join(OUT_DIR, "%s-K%d-%s-round%d.json" % (tag, keys, workload, round_index)), "w") as out:
        out.write(result.stdout)
    return data


def run_side_by_side(commands, rounds, repeat):
    """{tag: {(keys, workload): {"runs": [json...], "wall": median wall_s}}}; the
    implementations take turns within each round, in alternating order."""
    results = {tag: {} for tag in commands}
    tags = list(commands)
    for title, keys, _, _, workloads in CONFIGURATIONS:
        for workload, ops in workloads:
            for round_index in range(rounds):
                order = tags if round_index % 2 == 0 else tags[::-1]
                for tag in order:
                    print("  %s %s %s round %d/%d" % (tag, title, workload, round_index + 1, rounds), file=sys.stderr)
                    data = bench(commands[tag], workload, ops, keys, repeat, tag, round_index)
                    results[tag].setdefault((keys, workload), {"runs": []})["runs"].append(data)
    for tag in tags:
        for entry in results[tag].values():
            walls = [d["wall_s"] for d in entry["runs"]]
            entry["wall"] = statistics.median(walls)
            entry["ops"] = entry["runs"][-1]["ops"]
            entry["ops_per_s"] = entry["ops"] / entry["wall"]
            entry["last"] = entry["runs"][-1]
    return results


# --- Instruction counts (callgrind) ------------------------------------------

def disassembly_calls(binary, symbol):
    """Symbols called by `symbol` in `binary`."""
    result = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "--disassemble=" + symbol, binary],
                            capture_output=True, text=True)
    return set(re.findall(r"(?:call|jmp)\s+[0-9a-f]+ <([^>+]+)>", result.stdout))


def symbols(binary):
    result = subprocess.run(["nm", binary], capture_output=True, text=True)
    return [line.split()[-1] for line in result.stdout.splitlines() if re.search(r" [Tt] ", line)]


def flashkvs_entry_points(binary):
    """{"get": symbol, "put": symbol}: the store calls the benchmark's timed
    phase makes (FlashKVS's specialized KeyValueStore.get(_:into:offset:) and
    put(_:_:) for RAMFlash)."""
    timed = [s for s in symbols(binary) if "14WorkloadRunnerV10timedPhase" in s]
    called = disassembly_calls(binary, timed[0]) if timed else set()
    found = {}
    for name, pattern in (("get", r"^\$s8FlashKVS13KeyValueStoreC3get_4into6offset.*RAMFlash"),
                          ("put", r"^\$s8FlashKVS13KeyValueStoreC3putyys4Span.*RAMFlash")):
        candidates = sorted(s for s in called if re.search(pattern, s) and "fA1_" not in s)
        if candidates:
            found[name] = candidates[0]
    return found


def reference_entry_points(binary):
    """{"get": symbol, "put": symbol}: pw_kvs's KeyValueStore::Get(key, span,
    offset) const and KeyValueStore::PutBytes (the out-of-line body of every Put)."""
    found = {}
    for symbol in symbols(binary):
        if "." in symbol:
            continue  # compiler fragments such as `.cold` (g++ -O2), not the entry point
        if symbol.startswith("_ZNK2pw3kvs13KeyValueStore3GetESt17basic_string_view") and "EntryMetadata" not in symbol:
            found["get"] = symbol
        elif symbol.startswith("_ZN2pw3kvs13KeyValueStore8PutBytesE"):
            found["put"] = symbol
    return found


def callgrind_profile(path):
    """(total Ir, {function: self Ir}) of a callgrind output file."""
    result = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no", "--inclusive=no", path],
                            capture_output=True, text=True)
    total = None
    functions = collections.Counter()
    in_table = False
    for line in result.stdout.splitlines():
        match = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$", line)
        if not match:
            if "file:function" in line:
                in_table = True
            continue
        cost = int(match.group(1).replace(",", ""))
        rest = match.group(2)
        if rest.startswith("PROGRAM TOTALS"):
            total = cost
        elif in_table:
            rest = re.sub(r" \[[^\]]*\]$", "", rest)
            function = rest.split(":", 1)[1] if ":" in rest else rest
            functions[function] += cost
    if total is None:
        sys.exit("callgrind_annotate could not read %s" % path)
    return total, functions


def instructions(command, tag, entry, keys, workload):
    """Instructions per call of `entry` and per function (self cost), from
    the difference of two runs of CALLGRIND_OPS ops."""
    profiles = []
    for ops in CALLGRIND_OPS:
        out = os.path.join(OUT_DIR, "callgrind-%s-K%d-%s-%d.out" % (tag, keys, workload, ops))
        print("  callgrind %s K=%d %s %d ops" % (tag, keys, workload, ops), file=sys.stderr)
        result = run(["valgrind", "--tool=callgrind", "--demangle=no", "--callgrind-out-file=" + out,
                      "--toggle-collect=" + entry] + command + bench_args(workload, ops, keys, 1))
        if result.returncode != 0:
            sys.exit("callgrind run failed (%s):\n%s" % (tag, result.stderr[-2000:]))
        profiles.append(callgrind_profile(out))
    (total_low, low), (total_high, high) = profiles
    ops = CALLGRIND_OPS[1] - CALLGRIND_OPS[0]
    per_function = {name: (high[name] - low.get(name, 0)) / ops for name in high}
    return {"per_op": (total_high - total_low) / ops, "functions": per_function,
            "totals": (total_low, total_high)}


def measure_instructions(commands, entry_points):
    counts = {}
    for tag, command in commands.items():
        for op, workload in OPERATIONS:
            if op not in entry_points[tag]:
                continue
            for keys in CALLGRIND_KEYS:
                counts[(tag, op, keys)] = instructions(command, tag, entry_points[tag][op], keys, workload)
    return counts


def demangle(names):
    """{mangled: readable} for Swift ($s...) and C++ (_Z...) names."""
    readable = {name: name for name in names}
    swift = [n for n in names if n.startswith("$s")]
    cxx = [n for n in names if n.startswith("_Z")]
    if swift:
        result = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(swift),
                                capture_output=True, text=True)
        lines = result.stdout.splitlines()
        if result.returncode == 0 and len(lines) == len(swift):
            for name, text in zip(swift, lines):
                text = re.sub(r"^(generic pre-specialization <[^>]*> of |specialized )", "", text)
                readable[name] = text.replace("FlashKVS.", "")
    if cxx and shutil.which("c++filt"):
        result = subprocess.run(["c++filt"], input="\n".join(cxx), capture_output=True, text=True)
        lines = result.stdout.splitlines()
        if len(lines) == len(cxx):
            full = {}
            for name, text in zip(cxx, lines):
                for long, short in (("(anonymous namespace)::", ""), ("pw::kvs::internal::", ""), ("pw::kvs::", ""),
                                    ("std::basic_string_view<char, std::char_traits<char> >", "string_view"),
                                    ("pw::span<std::byte const, 18446744073709551615ul>", "span<const byte>"),
                                    ("pw::span<std::byte, 18446744073709551615ul>", "span<byte>")):
                    text = text.replace(long, short)
                full[name] = text
            # Without parameters, unless that makes two overloads look alike.
            short = {name: re.sub(r"\(.*\)( const)?$", "()", text) for name, text in full.items()}
            clashes = collections.Counter(short.values())
            for name in cxx:
                readable[name] = short[name] if clashes[short[name]] == 1 else full[name]
    for name in names:
        readable[name] = re.sub(r"^__(memcpy|memmove|memset|memcmp)\w*", r"\1 (libc)", readable[name])
    return readable


# --- Formatting --------------------------------------------------------------

def rate(value):
    if value >= 1e6:
        return "%.2f M" % (value / 1e6)
    if value >= 1e3:
        return "%.1f k" % (value / 1e3)
    return "%.0f" % value


def us(value):
    return "%.3f" % value if value < 100 else "%.1f" % value


def device_footprint():
    """Runs Scripts/embedded-footprint.sh (FLASHKVS_SKIP_BUDGET=1: the report
    gives the verdict) and returns (code, code budget, RAM, RAM budget), or
    (None, why) when it cannot run (no Embedded toolchain here)."""
    result = run(["bash", "Scripts/embedded-footprint.sh"], env=dict(os.environ, FLASHKVS_SKIP_BUDGET="1"))
    budget = re.search(r"code <= (\d+) B, RAM <= (\d+) B", result.stdout)
    figures_path = os.path.join(ROOT, ".build-embedded", "mps2-an386", "figures.txt")
    if result.returncode != 0 or not budget or not os.path.exists(figures_path):
        last = (result.stdout + result.stderr).strip().splitlines()
        return None, "not measured: Scripts/embedded-footprint.sh failed (exit status %d: %s)" % (
            result.returncode, last[-1] if last else "no output")
    with open(figures_path) as figures:
        measured = re.search(r"code (\d+) B .*RAM (\d+) B", figures.read())
    if not measured:
        return None, "no figures in %s" % figures_path
    return (int(measured.group(1)), int(budget.group(1)), int(measured.group(2)), int(budget.group(2))), None


def verdict(met):
    if met is None:
        return "not evaluated"
    return "**met**" if met else "**not met**"


def machine(reference_binary):
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    swift = run(["swift", "--version"]).stdout.strip().splitlines()
    swift = next((line for line in swift if "Swift version" in line), swift[0] if swift else "?")
    commit = run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip() or "?"
    dirty = run(["git", "status", "--porcelain", "--", "Sources", "Package.swift"]).stdout.strip()
    compiler = None
    if reference_binary:
        comment = subprocess.run(["readelf", "-p", ".comment", reference_binary], capture_output=True, text=True)
        found = re.findall(r"\]\s+(GCC: .*|clang version .*)", comment.stdout)
        compiler = "; ".join(sorted(set(f.strip() for f in found))) or None
    return {"nproc": os.cpu_count(), "model": model, "swift": swift, "commit": commit, "dirty": bool(dirty),
            "load": os.getloadavg(), "kernel": os.uname().release, "reference_compiler": compiler}


def round_ratios(results, key):
    """Each round's ratio (ours ops/s over the reference's, adjacent runs)."""
    ours = results["flashkvs"][key]["runs"]
    ref = results["reference"][key]["runs"]
    return [r["wall_s"] / o["wall_s"] for o, r in zip(ours, ref)]


def throughput_tables(results, has_reference):
    lines = []
    for title, keys, sectors, max_entries, workloads in CONFIGURATIONS:
        lines += ["### %s (max-entries %d)" % (title, max_entries), ""]
        if has_reference:
            lines += ["| workload | ops | FlashKVS ops/s | FlashKVS us/op | pw_kvs ops/s | pw_kvs us/op | ratio (medians) "
                      "| ratio per round, min-max |",
                      "|---|---|---|---|---|---|---|---|"]
        else:
            lines += ["| workload | ops | FlashKVS ops/s | FlashKVS us/op | runs (median wall s, min, max) |",
                      "|---|---|---|---|---|"]
        for workload, _ in workloads:
            ours = results["flashkvs"][(keys, workload)]
            walls = [d["wall_s"] for d in ours["runs"]]
            if has_reference:
                ref = results["reference"][(keys, workload)]
                per_round = round_ratios(results, (keys, workload))
                lines.append("| %s | %d | %s | %s | %s | %s | %.2fx | %.2f-%.2fx |" % (
                    workload, ours["ops"], rate(ours["ops_per_s"]), us(ours["wall"] * 1e6 / ours["ops"]),
                    rate(ref["ops_per_s"]), us(ref["wall"] * 1e6 / ref["ops"]), ref["wall"] / ours["wall"],
                    min(per_round), max(per_round)))
            else:
                lines.append("| %s | %d | %s | %s | %.6f, %.6f, %.6f |" % (
                    workload, ours["ops"], rate(ours["ops_per_s"]), us(ours["wall"] * 1e6 / ours["ops"]),
                    ours["wall"], min(walls), max(walls)))
        lines.append("")
    return lines


def flash_table(results, has_reference):
    """Per-op flash traffic of the timed phase; returns (lines, met or None)."""
    sides = ["flashkvs"] + (["reference"] if has_reference else [])
    lines = ["| configuration | workload | implementation | read calls/op | bytes read/op | write calls/op "
             "| bytes written/op | erase calls per 1000 ops | sectors erased per 1000 ops | erases/sector min/med/max |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    met = True if has_reference else None
    worse = []
    for title, keys, _, _, workloads in CONFIGURATIONS:
        for workload, _ in workloads:
            for side in sides:
                d = results[side][(keys, workload)]["last"]
                f, ops = d["flash"], d["ops"]
                lines.append("| K=%d | %s | %s | %.2f | %.1f | %.2f | %.1f | %.2f | %.2f | %d/%.1f/%d |" % (
                    keys, workload, "FlashKVS" if side == "flashkvs" else "pw_kvs", f["read_calls"] / ops,
                    f["bytes_read"] / ops, f["write_calls"] / ops, f["bytes_written"] / ops,
                    f["erase_calls"] * 1000 / ops, f["sectors_erased"] * 1000 / ops, f["sector_erases_min"],
                    f["sector_erases_median"], f["sector_erases_max"]))
            if has_reference:
                o = results["flashkvs"][(keys, workload)]["last"]["flash"]
                r = results["reference"][(keys, workload)]["last"]["flash"]
                for field in ("bytes_written", "erase_calls", "sectors_erased"):
                    if o[field] > r[field]:
                        met = False
                        worse.append("K=%d %s %s %d > %d" % (keys, workload, field, o[field], r[field]))
    return lines, met, worse


def profile_table(counts, readable, op, keys, has_reference, top):
    sides = [("flashkvs", "FlashKVS")] + ([("reference", "pw_kvs")] if has_reference else [])
    lines = []
    for tag, name in sides:
        entry = counts.get((tag, op, keys))
        if entry is None:
            continue
        ranked = sorted(entry["functions"].items(), key=lambda item: -item[1])
        shown = [(f, c) for f, c in ranked[:top] if c >= 0.5]
        rest = entry["per_op"] - sum(c for _, c in shown)
        lines += ["**%s, %s, K=%d: %.0f instructions per %s**" % (name, op, keys, entry["per_op"], op), "",
                  "| function (self cost) | instructions per %s | share |" % op, "|---|---|---|"]
        for function, cost in shown:
            lines.append("| `%s` | %.0f | %.0f %% |" % (readable.get(function, function).replace("|", "\\|"), cost,
                                                       100 * cost / entry["per_op"]))
        lines += ["| everything else | %.0f | %.0f %% |" % (rest, 100 * rest / entry["per_op"]), ""]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs per implementation and workload (default 5)")
    parser.add_argument("--repeat", type=int, default=3, help="--repeat of each bench run (default 3)")
    parser.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    parser.add_argument("--output", default=os.path.join(ROOT, "BENCHMARKS.md"))
    parser.add_argument("--reference", nargs="+", metavar="CMD",
                        help="the reference's bench command (the same contract); last option")
    options = parser.parse_args()
    os.makedirs(OUT_DIR, exist_ok=True)

    has_reference = bool(options.reference)
    reference_binary = executable_of(options.reference) if has_reference else None
    host = machine(reference_binary)
    started = datetime.datetime.now(datetime.timezone.utc)
    print("building", file=sys.stderr)
    binary = build()
    commands = {"flashkvs": [binary]}
    if has_reference:
        commands["reference"] = list(options.reference)
    checks = {tag: run([sys.executable, WORKLOAD_REF, "--check"] + command) for tag, command in commands.items()}
    for tag, check in checks.items():
        if check.returncode != 0:
            print("warning: %s fails workload_ref.py --check:\n%s" % (tag, check.stdout), file=sys.stderr)

    results = run_side_by_side(commands, options.rounds, options.repeat)
    counts, entry_points = {}, {}
    callgrind_note = None
    if options.no_callgrind:
        callgrind_note = "skipped (--no-callgrind)"
    elif not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        callgrind_note = "skipped: valgrind/callgrind_annotate not found"
    else:
        entry_points["flashkvs"] = flashkvs_entry_points(binary)
        if has_reference:
            entry_points["reference"] = reference_entry_points(reference_binary)
        counts = measure_instructions(commands, entry_points)
    print("device footprint (Scripts/embedded-footprint.sh)", file=sys.stderr)
    footprint, footprint_note = device_footprint()
    load_after = os.getloadavg()
    readable = demangle(sorted({f for entry in counts.values() for f in entry["functions"]}
                               | {s for points in entry_points.values() for s in points.values()}))

    def per_op(tag, op, keys):
        entry = counts.get((tag, op, keys))
        return entry["per_op"] if entry else None

    # --- Targets ---
    rows = []  # (target, FlashKVS, pw_kvs, ratio text, met or None)
    for keys, workload, factor in SPEED_TARGETS:
        ours = results["flashkvs"][(keys, workload)]
        name = "ops/s, K=%d %s: >= %.1fx pw_kvs" % (keys, workload, factor)
        if has_reference:
            ref = results["reference"][(keys, workload)]
            ratio = ref["wall"] / ours["wall"]
            per_round = round_ratios(results, (keys, workload))
            rows.append((name, rate(ours["ops_per_s"]), rate(ref["ops_per_s"]),
                         "%.2fx (rounds %.2f-%.2fx)" % (ratio, min(per_round), max(per_round)), ratio >= factor))
        else:
            rows.append((name, rate(ours["ops_per_s"]), "-", "-", None))
    for op, factor in INSTRUCTION_TARGETS:
        ours, ref = per_op("flashkvs", op, 100), per_op("reference", op, 100)
        name = "instructions per %s, K=100: <= %.1fx pw_kvs" % (op, factor)
        if ours is not None and ref is not None:
            rows.append((name, "%.0f" % ours, "%.0f" % ref, "%.2fx" % (ours / ref), ours / ref <= factor))
        else:
            rows.append((name, "%.0f" % ours if ours is not None else "-", "-", "-", None))
    low, high = per_op("flashkvs", "get", 100), per_op("flashkvs", "get", 10000)
    wall_flat = results["flashkvs"][(10000, "read")]["wall"] / results["flashkvs"][(100, "read")]["wall"]
    if low is not None and high is not None:
        rows.append(("get cost flat, K=10000 over K=100 (instructions): <= %.1fx" % FLAT_GET_LIMIT,
                     "%.0f -> %.0f" % (low, high), "-", "%.2fx (wall time %.2fx)" % (high / low, wall_flat),
                     high / low <= FLAT_GET_LIMIT))
    else:
        rows.append(("get cost flat, K=10000 over K=100 (wall time; no instruction counts): <= %.1fx"
                     % FLAT_GET_LIMIT, "-", "-", "%.2fx" % wall_flat, wall_flat <= FLAT_GET_LIMIT))
    heap = [(keys, w, results["flashkvs"][(keys, w)]["last"]["heap"]["timed_malloc_calls"])
            for (keys, w) in results["flashkvs"] if w != "init"]
    heap_counted = all(c is not None for _, _, c in heap)
    rows.append(("no heap allocation after init (timed phase of fill, update, read, mixed)",
                 "max %d malloc calls" % max(c for _, _, c in heap) if heap_counted else "not counted", "-", "-",
                 heap_counted and all(c == 0 for _, _, c in heap)))
    flash_lines, flash_met, flash_worse = flash_table(results, has_reference)
    rows.append(("flash bytes written, erase calls, sectors erased <= pw_kvs (every run below)",
                 "see flash traffic", "see flash traffic" if has_reference else "-",
                 "; ".join(flash_worse) if flash_worse else ("none higher" if has_reference else "-"), flash_met))

    if footprint:
        code, code_budget, ram, ram_budget = footprint
        rows.append(("device code within the budget of issue 21 (minimal image, armv7em -Osize: code <= %d B, "
                     "RAM for 50 keys <= %d B; Scripts/embedded-footprint.sh)" % (code_budget, ram_budget),
                     "%d B code, %d B RAM" % (code, ram), "-", "-", code <= code_budget and ram <= ram_budget))
    else:
        rows.append(("device code within the budget of issue 21 (Scripts/embedded-footprint.sh)",
                     footprint_note, "-", "-", None))

    # --- Report ---
    reference_text = ("`%s` (%s)" % (" ".join(options.reference),
                                     results["reference"][(100, "read")]["last"].get("implementation", "?"))
                      if has_reference else None)
    command_line = "python3 Scripts/bench-report.py" + (" --reference %s" % " ".join(options.reference)
                                                         if has_reference else "")
    out = ["# FlashKVS benchmarks", "",
           "Generated by `%s` on %s (%d rounds, `--repeat %d`). The benchmark is `flashkvs-bench` "
           "(Sources/flashkvs-bench): the contract of `shared/bench/WORKLOADS.md` on the real `KeyValueStore` over "
           "a counting `RAMFlash`, release build (`Scripts/bench-build.sh`)." % (
               command_line, started.strftime("%Y-%m-%d %H:%M UTC"), options.rounds, options.repeat), ""]
    if has_reference:
        out += ["The reference is %s, run by the same script in the same session: each workload is run %d times per "
                "implementation, the two taking turns (alternating which goes first), each run the median of %d "
                "timed phases; a figure is the median over the rounds. The reference is built outside this "
                "repository (it is not part of the project); see `Scripts/bench-notes.md`." % (
                    reference_text, options.rounds, options.repeat), ""]
    else:
        out += ["**No reference was given** (`--reference CMD...`): FlashKVS's figures are shown alone, no ratio is "
                "computed, and the targets that compare with pw_kvs are not evaluated.", ""]
    out += ["## Machine", "", "| | |", "|---|---|",
            "| date | %s |" % started.strftime("%Y-%m-%d %H:%M UTC"),
            "| commit | %s%s |" % (host["commit"], " + uncommitted changes in Sources or Package.swift"
                                   if host["dirty"] else ""),
            "| CPU (/proc/cpuinfo) | %s |" % host["model"],
            "| cores (nproc) | %s |" % host["nproc"],
            "| kernel | %s |" % host["kernel"],
            "| load average (1/5/15 min) before / after | %.2f %.2f %.2f / %.2f %.2f %.2f |" % (
                *host["load"], *load_after),
            "| FlashKVS toolchain | %s |" % host["swift"]]
    if has_reference:
        out.append("| reference | %s, compiled by %s |" % (reference_text, host["reference_compiler"] or "?"))
    out += ["", "The machine is shared and noisy: wall-clock figures move by about 10 % from run to run, more while "
            "others build. Only ratios measured side by side in one run are compared here, and the instruction "
            "counts (callgrind), which the load cannot move, are the measure of a change.", "",
            "## Contract check", ""]
    for tag, check in checks.items():
        out += ["`python3 ../shared/bench/workload_ref.py --check %s` (exit status %d):" % (
            "flashkvs-bench" if tag == "flashkvs" else " ".join(commands[tag]), check.returncode), "",
            "```", check.stdout.rstrip(), "```", ""]

    out += ["## Targets of issue 19", ""]
    if not has_reference:
        out += ["No reference given: the targets relative to pw_kvs are not evaluated.", ""]
    out += ["| target | FlashKVS | pw_kvs | ratio | verdict |", "|---|---|---|---|---|"]
    out += ["| %s | %s | %s | %s | %s |" % (name, ours, ref, ratio, verdict(met)) for name, ours, ref, ratio, met in rows]
    out += [""]

    out += ["## Throughput, side by side" if has_reference else "## Throughput (FlashKVS alone)", ""]
    if has_reference:
        out += ["Ratio = FlashKVS ops/s over pw_kvs ops/s (higher is better): of the medians, and the lowest and "
                "highest of the per-round ratios (each round's two runs are adjacent in time).", ""]
    out += throughput_tables(results, has_reference)

    out += ["## Instructions per operation (callgrind)", ""]
    if callgrind_note:
        out += ["Instruction counts %s." % callgrind_note, ""]
    else:
        out += ["`valgrind --tool=callgrind --toggle-collect=ENTRY`: only instructions executed inside the store's "
                "top-level call are counted (everything it calls included). Per op = (count of a %d-op run - count "
                "of a %d-op run) / %d, which cancels the setup puts, the verification and process start; put "
                "includes its share of garbage collection. Get = `read` workload, put = `update` workload, same "
                "geometry as the throughput runs. Entry points:" % (CALLGRIND_OPS[1], CALLGRIND_OPS[0],
                                                                     CALLGRIND_OPS[1] - CALLGRIND_OPS[0]), ""]
        for tag, points in entry_points.items():
            for op, symbol in sorted(points.items()):
                out.append("- %s %s: `%s` (`%s`)" % ("FlashKVS" if tag == "flashkvs" else "pw_kvs", op,
                                                    readable.get(symbol, symbol), symbol))
        missing = [(tag, op) for tag in commands for op, _ in OPERATIONS if op not in entry_points.get(tag, {})]
        for tag, op in missing:
            out.append("- %s %s: **entry point not found** (not measured)" % (tag, op))
        if has_reference:
            out += ["", "| operation | keys | FlashKVS | pw_kvs | ratio |", "|---|---|---|---|---|"]
        else:
            out += ["", "| operation | keys | FlashKVS |", "|---|---|---|"]
        for op, _ in OPERATIONS:
            for keys in CALLGRIND_KEYS:
                ours, ref = per_op("flashkvs", op, keys), per_op("reference", op, keys)
                cells = [op, str(keys), "%.0f" % ours if ours is not None else "-"]
                if has_reference:
                    cells += ["%.0f" % ref if ref is not None else "-",
                              "%.2fx" % (ours / ref) if ours is not None and ref is not None else "-"]
                out.append("| %s |" % " | ".join(cells))
        out += ["", "## Where the time goes (per function, inside get and put)", "",
                "Self cost (instructions executed in the function itself, inlined code included) per operation, "
                "from the same two callgrind runs; K=100, 16 sectors. The raw profiles are in "
                "`.build-bench/bench-report/callgrind-*.out` (`callgrind_annotate --inclusive=yes --tree=caller`).",
                ""]
        for op, _ in OPERATIONS:
            out += profile_table(counts, readable, op, 100, has_reference, 12)

    out += ["## Flash traffic per operation", "",
            "Timed phase only, counted at the flash level (every read, write and erase call the partition forwards)"
            ", from the last run of each workload above.%s" % (
                " Fewer read calls per get is better on SPI flash, where each call costs a command and an address."
                if has_reference else ""), ""]
    out += flash_lines + [""]

    out += ["## Heap allocations (FlashKVS)", "",
            "Counted by the benchmark itself (malloc interposition, Sources/flashkvs-bench/HeapCounter.swift)%s." % (
                "" if heap_counted else ": NOT counted in these runs"), "",
            "| configuration | workload | timed-phase malloc calls | store construction (calls / bytes) |",
            "|---|---|---|---|"]
    for (keys, workload), entry in results["flashkvs"].items():
        h = entry["last"]["heap"]
        out.append("| K=%d | %s | %s | %s / %s |" % (keys, workload, h["timed_malloc_calls"],
                                                    h["store_construction_malloc_calls"],
                                                    h["store_construction_bytes"]))
    out += ["", "The `init` workload constructs a new store object per op (by the workload's definition), so its timed "
            "phase allocates the store's RAM each time; `initialize()` itself allocates nothing.%s" % (
                " pw_kvs's bench constructs each store in place in static storage (no heap)." if has_reference else ""),
            ""]

    notes = os.path.join(ROOT, "Scripts", "bench-notes.md")
    if os.path.exists(notes):
        out += [open(notes).read().rstrip(), ""]

    with open(options.output, "w") as report:
        report.write("\n".join(out))
    print("wrote %s" % options.output, file=sys.stderr)
    return 0 if all(check.returncode == 0 for check in checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
