#!/usr/bin/env python3
"""Regenerates BENCHMARKS.md with one command.

    python3 Scripts/bench-report.py [--repeat R] [--projection patch|flags|none] [--output FILE]

Builds flashkvs-bench in release mode (Scripts/bench-build.sh), checks it with
shared/bench/workload_ref.py --check, runs every configuration below with
--repeat R (median of R timed phases), and writes the report: one table per
configuration (ops/s, us/op, flash counters, heap allocations), the targets of
issue 7 with the measured ratio against the reference figures of
shared/bench/WORKLOADS.md (sections 7 and 9, parsed from the file), the
scaling run (keys 100 -> 10000, sectors 16 -> 256: get, put and init cost, RAM
of the store), the machine, and the hand-written profile notes of
Scripts/bench-notes.md.

The projection measures what the recommended core changes would buy, side by
side in the same run, and shows it separately (it is not the product):
`patch` (default) builds a copy of the package with
Scripts/bench-core-proposals.patch applied to Sources/FlashKVS (falling back
to `flags` when the patch no longer applies to the core); `flags` builds the
unchanged package with the compiler flags that stand in for the two largest
changes (cross-module specialization, no dynamic exclusivity checks).

The raw JSON of every run is kept in .build-bench/bench-report/.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_BENCH = os.path.join(os.path.dirname(ROOT), "shared", "bench")
WORKLOADS_MD = os.path.join(SHARED_BENCH, "WORKLOADS.md")
WORKLOAD_REF = os.path.join(SHARED_BENCH, "workload_ref.py")

# (title, keys, sectors, max-entries, [(workload, ops)]); 4 KiB sectors,
# alignment 16, V=32, seed 1, crc16, redundancy 1 everywhere.
CONFIGURATIONS = [
    ("K=100, 16 sectors", 100, 16, 256,
     [("fill", 0), ("update", 100000), ("read", 100000), ("mixed", 100000), ("init", 1000)]),
    ("K=1000, 64 sectors", 1000, 64, 1024,
     [("update", 100000), ("read", 100000), ("mixed", 100000), ("init", 1000)]),
    ("K=10000, 256 sectors", 10000, 256, 16384,
     [("update", 100000), ("read", 100000), ("mixed", 100000), ("init", 100)]),
]
PROJECTION_FLAGS = ["-Xswiftc", "-cross-module-optimization", "-Xswiftc", "-enforce-exclusivity=unchecked"]
PROPOSALS_PATCH = os.path.join(ROOT, "Scripts", "bench-core-proposals.patch")


def run(command, **kwargs):
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, **kwargs)


def build(scratch, extra_flags, package=None):
    env = dict(os.environ, BENCH_SCRATCH=scratch)
    if package:
        env["BENCH_PACKAGE"] = package
    result = run(["bash", "Scripts/bench-build.sh"] + extra_flags, env=env)
    if result.returncode != 0:
        sys.exit("build failed:\n" + result.stderr[-4000:])
    return result.stdout.strip().splitlines()[-1]


def projection_build(mode):
    """(binary, description) of the projection build, or (None, reason)."""
    if mode == "patch":
        copy = os.path.join(ROOT, ".build-bench", "projection-src")
        shutil.rmtree(copy, ignore_errors=True)
        os.makedirs(copy)
        for name in ("Package.swift", "Package.resolved"):
            if os.path.exists(os.path.join(ROOT, name)):
                shutil.copy(os.path.join(ROOT, name), copy)
        for name in ("Sources", "Tests"):
            shutil.copytree(os.path.join(ROOT, name), os.path.join(copy, name))
        with open(PROPOSALS_PATCH) as patch:
            text = patch.read()
        dry = subprocess.run(["patch", "-p1", "--dry-run", "--batch", "--silent"], cwd=copy, input=text,
                             capture_output=True, text=True)
        if dry.returncode == 0:
            subprocess.run(["patch", "-p1", "--batch", "--silent"], cwd=copy, input=text, check=True,
                           capture_output=True, text=True)
            return (build(".build", [], package=copy),
                    "the package with `Scripts/bench-core-proposals.patch` applied to the core (the recommended "
                    "changes below, standard release build)")
        print("the proposals patch no longer applies; projecting with compiler flags", file=sys.stderr)
        mode = "flags"
        fallback = " (the proposals patch no longer applies to the current core)"
    else:
        fallback = ""
    return (build(".build-bench-projection", PROJECTION_FLAGS),
            "the unchanged package built with `%s`, the compiler-flag stand-in for the two largest recommended "
            "changes (cross-module specialization, no dynamic exclusivity checks)%s" % (
                " ".join(PROJECTION_FLAGS), fallback))


# --- The reference figures, parsed from WORKLOADS.md -------------------------

def markdown_table(text, first_header):
    """Rows (dicts) of the markdown table whose header starts with first_header."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_header and len(cells) > 3:
            header = cells
            rows = []
            for row_line in lines[index + 2:]:
                if not row_line.startswith("|"):
                    break
                rows.append(dict(zip(header, [c.strip() for c in row_line.strip().strip("|").split("|")])))
            if rows and len(rows[0]) == len(header):
                yield header, rows


def reference_figures():
    text = open(WORKLOADS_MD).read()
    tables = list(markdown_table(text, "workload"))
    flash = next(rows for header, rows in tables if "bytes_read" in header)
    speed = next(rows for header, rows in tables if "median wall s" in header)
    ref = {"flash": {}, "speed": {}, "large": {}, "per_op": {}}
    for row in flash:
        low, median, high = row["erases/sector min/med/max"].split("/")
        ref["flash"][row["workload"]] = {
            "ops": int(row["ops"]), "bytes_read": int(row["bytes_read"]),
            "bytes_written": int(row["bytes_written"]), "sectors_erased": int(row["sectors_erased"]),
            "erases": (int(low), float(median), int(high))}
    for row in speed:
        ops, wall = int(row["ops"]), float(row["median wall s"])
        ref["speed"][row["workload"]] = {"ops": ops, "wall_s": wall, "ops_per_s": ops / wall,
                                         "us_per_op": float(row["us/op"])}
    large = re.search(r"Larger configuration[^:]*:(.*?)(?:\n\n|The read cost)", text, re.S)
    if large:
        for name, value, unit in re.findall(r"(update|read|mixed|init)\s+([\d.]+)\s+(us/op|us)", large.group(1)):
            ref["large"][name] = float(value)
    per_put = re.search(r"per update-Put\s+(\d+) FlashMemory reads \((\d+) bytes\) and (\d+) write", text)
    per_get = re.search(r"per Get (\d+) reads", text)
    per_init = re.search(r"per Init[^)]*\)\s+(\d+)\s+reads", text)
    if per_put:
        ref["per_op"]["update"] = {"read_calls": int(per_put.group(1)), "write_calls": int(per_put.group(3))}
    if per_get:
        ref["per_op"]["read"] = {"read_calls": int(per_get.group(1)), "write_calls": 0}
    if per_init:
        ref["per_op"]["init"] = {"read_calls": int(per_init.group(1)), "write_calls": 0}
    return ref


# --- Running the benchmark ---------------------------------------------------

def bench(binary, workload, ops, keys, sectors, max_entries, repeat, tag):
    args = [binary, "--workload", workload, "--ops", str(ops), "--keys", str(keys), "--value-size", "32",
            "--seed", "1", "--sectors", str(sectors), "--sector-size", "4096", "--alignment", "16",
            "--max-entries", str(max_entries), "--repeat", str(repeat)]
    result = run(args)
    try:
        data = json.loads(result.stdout)
    except json.JSONDecodeError:
        sys.exit("bench failed: %s\n%s" % (" ".join(args), result.stderr[-2000:]))
    out_dir = os.path.join(ROOT, ".build-bench", "bench-report")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "%s-%s-K%d.json" % (tag, workload, keys)), "w") as out:
        out.write(result.stdout)
    return data


def run_all(binaries, repeat):
    """Runs every configuration on each binary ({tag: path}); the binaries take
    turns per workload, so that a change in the machine's load hits all alike."""
    results = {tag: {} for tag in binaries}
    for title, keys, sectors, max_entries, workloads in CONFIGURATIONS:
        for workload, ops in workloads:
            for tag, binary in binaries.items():
                print("  %s %s %s" % (tag, title, workload), file=sys.stderr)
                results[tag][(keys, workload)] = bench(binary, workload, ops, keys, sectors, max_entries, repeat,
                                                       tag)
    return results


# --- Formatting --------------------------------------------------------------

def rate(value):
    if value >= 1e6:
        return "%.2f M" % (value / 1e6)
    if value >= 1e3:
        return "%.1f k" % (value / 1e3)
    return "%.0f" % value


def us(value):
    return "%.3f" % value if value < 100 else "%.1f" % value


def count(value):
    """An allocation count, or n/c when the heap was not counted."""
    return "n/c" if value is None else str(value)


def verdict(met):
    return "**met**" if met else "**not met**"


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    swift = run(["swift", "--version"]).stdout.strip().splitlines()
    swift = next((line for line in swift if "Swift version" in line), swift[0] if swift else "?")
    commit = run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip() or "?"
    dirty = run(["git", "status", "--porcelain", "--", "Sources/FlashKVS"]).stdout.strip()
    return {"nproc": os.cpu_count(), "model": model, "swift": swift, "commit": commit,
            "core_dirty": bool(dirty), "load": os.getloadavg()}


def configuration_table(title, keys, sectors, max_entries, workloads, results):
    lines = ["### %s (4 KiB sectors, max-entries %d, V=32, seed 1)" % (title, max_entries), "",
             "| workload | ops | median wall s | ops/s | us/op | read calls | bytes read | write calls "
             "| bytes written | erase calls | sectors erased | erases/sector min/med/max | timed mallocs | verify |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for workload, _ in workloads:
        d = results[(keys, workload)]
        f = d["flash"]
        lines.append("| %s | %d | %.6f | %s | %s | %d | %d | %d | %d | %d | %d | %d/%.1f/%d | %s | %s |" % (
            workload, d["ops"], d["wall_s"], rate(d["ops_per_s"]), us(d["us_per_op"]), f["read_calls"],
            f["bytes_read"], f["write_calls"], f["bytes_written"], f["erase_calls"], f["sectors_erased"],
            f["sector_erases_min"], f["sector_erases_median"], f["sector_erases_max"],
            count(d["heap"]["timed_malloc_calls"]), d["verify"]))
    return lines


def flash_comparison(results, ref):
    """Section 7 flash columns vs ours (K=100, 16 sectors); returns lines and whether all are met."""
    lines = ["| workload | bytes read (ours / ref) | bytes written (ours / ref) | sectors erased (ours / ref) "
             "| erases/sector (ours / ref) | read calls per op (ours / ref) | write calls per op (ours / ref) "
             "| verdict |",
             "|---|---|---|---|---|---|---|---|"]
    all_met = True
    for workload, expected in ref["flash"].items():
        d = results.get((100, workload))
        if d is None:
            continue
        f = d["flash"]
        ours_erases = (f["sector_erases_min"], f["sector_erases_median"], f["sector_erases_max"])
        per_op = ref["per_op"].get(workload)
        reads = f["read_calls"] / d["ops"]
        writes = f["write_calls"] / d["ops"]
        met = (f["bytes_read"] <= expected["bytes_read"] and f["bytes_written"] == expected["bytes_written"]
               and f["sectors_erased"] <= expected["sectors_erased"])
        if per_op:
            met = met and reads <= per_op["read_calls"] and writes <= per_op["write_calls"]
        all_met = all_met and met
        lines.append("| %s | %d / %d | %d / %d | %d / %d | %d/%.1f/%d / %d/%.1f/%d | %s | %s | %s |" % (
            workload, f["bytes_read"], expected["bytes_read"], f["bytes_written"], expected["bytes_written"],
            f["sectors_erased"], expected["sectors_erased"], *ours_erases, *expected["erases"],
            "%.2f / %s" % (reads, per_op["read_calls"] if per_op else "n/p"),
            "%.2f / %s" % (writes, per_op["write_calls"] if per_op else "n/p"),
            "identical" if (f["bytes_read"], f["bytes_written"], f["sectors_erased"], ours_erases)
            == (expected["bytes_read"], expected["bytes_written"], expected["sectors_erased"], expected["erases"])
            else ("fewer or equal" if met else "MORE")))
    return lines, all_met


def best_us(d):
    """us/op of the fastest of the R timed phases."""
    return d["wall_s_min"] * 1e6 / d["ops"] if d["ops"] else 0.0


def targets(results, ref):
    """(target, reference, measured, ratio, met, best-of-R ratio) rows of issue 7."""
    rows = []
    speed = ref["speed"]
    for workload, factor in (("update", 1.5), ("read", 1.5), ("mixed", 1.5), ("init", 1.0)):
        d = results[(100, workload)]
        ratio = d["ops_per_s"] / speed[workload]["ops_per_s"]
        best = (d["ops"] / d["wall_s_min"]) / speed[workload]["ops_per_s"]
        rows.append(("K=100 %s: >= %.1fx the reference's ops/s" % (workload, factor),
                     "%s ops/s" % rate(speed[workload]["ops_per_s"]), "%s ops/s" % rate(d["ops_per_s"]),
                     ratio, ratio >= factor, best))
    base = results[(100, "read")]
    for keys in (1000, 10000):
        d = results[(keys, "read")]
        ratio = d["us_per_op"] / base["us_per_op"]
        rows.append(("K=%d get cost <= 1.3x its K=100 cost" % keys, "%s us (ours at K=100)" % us(base["us_per_op"]),
                     "%s us" % us(d["us_per_op"]), ratio, ratio <= 1.3, best_us(d) / best_us(base)))
    if "update" in ref["large"]:
        d = results[(1000, "update")]
        ratio = ref["large"]["update"] / d["us_per_op"]
        rows.append(("K=1000 update: >= 2x the reference", "%s us/op" % us(ref["large"]["update"]),
                     "%s us/op" % us(d["us_per_op"]), ratio, ratio >= 2.0, ref["large"]["update"] / best_us(d)))
    return rows


def targets_table(rows, projection_rows=None):
    header = "| target | reference | measured (median) | ratio | verdict | ratio, fastest run |"
    rule = "|---|---|---|---|---|---|"
    if projection_rows:
        header += " projection ratio (median) |"
        rule += "---|"
    lines = [header, rule]
    for index, (name, reference, measured, ratio, met, best) in enumerate(rows):
        line = "| %s | %s | %s | %.2fx | %s | %.2fx |" % (name, reference, measured, ratio, verdict(met), best)
        if projection_rows:
            p = projection_rows[index]
            line += " %.2fx (%s) |" % (p[3], "met" if p[4] else "not met")
        lines.append(line)
    return lines


def store_ram_reference(keys_capacity, sectors, redundancy=1):
    """RAM of a pw_kvs instance from its buffer layout (spec, size section)."""
    return keys_capacity * (12 + 4 * redundancy) + sectors * 4 + 4 * redundancy + 8 * (2 * redundancy - 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--projection", choices=["patch", "flags", "none"], default="none")
    parser.add_argument("--output", default=os.path.join(ROOT, "BENCHMARKS.md"))
    options = parser.parse_args()

    ref = reference_figures()
    host = machine()
    started = datetime.datetime.now(datetime.timezone.utc)
    print("building", file=sys.stderr)
    binaries = {"standard": build(".build-bench", [])}
    check = run([sys.executable, WORKLOAD_REF, "--check", binaries["standard"]])
    projection_description = ""
    if options.projection != "none":
        print("building the projection", file=sys.stderr)
        binaries["projection"], projection_description = projection_build(options.projection)
    measured = run_all(binaries, options.repeat)
    results = measured["standard"]
    projection = measured.get("projection")
    load_after = os.getloadavg()

    target_rows = targets(results, ref)
    projection_rows = targets(projection, ref) if projection else None
    flash_lines, flash_met = flash_comparison(results, ref)
    timed_mallocs = [(keys, w, d["heap"]["timed_malloc_calls"]) for (keys, w), d in results.items() if w != "init"]
    heap_met = all(calls == 0 for _, _, calls in timed_mallocs)  # None (not counted) is not met
    heap_counted = all(d["heap"]["counted"] != "unavailable" for d in results.values())

    out = ["# FlashKVS benchmarks", "",
           "Generated by `python3 Scripts/bench-report.py` on %s; run that one command to regenerate this "
           "file (a few minutes: two release builds and %d runs of each configuration). The benchmark is "
           "`flashkvs-bench` (Sources/flashkvs-bench), which follows `shared/bench/WORKLOADS.md` bit for bit: "
           "the real `KeyValueStore` on a `RAMFlash` with counters, release build "
           "(`Scripts/bench-build.sh`: `swift build -c release --scratch-path .build-bench` plus linker flags "
           "that export the benchmark's malloc counter)." % (started.strftime("%Y-%m-%d %H:%M UTC"),
                                                             options.repeat), "",
           "## Machine", "",
           "| | |", "|---|---|",
           "| CPU (/proc/cpuinfo) | %s |" % host["model"],
           "| nproc | %s |" % host["nproc"],
           "| load average (1/5/15 min) before / after | %.2f %.2f %.2f / %.2f %.2f %.2f |" % (
               *host["load"], *load_after),
           "| toolchain | %s |" % host["swift"],
           "| commit | %s%s |" % (host["commit"], " + uncommitted changes in Sources/FlashKVS"
                                  if host["core_dirty"] else ""),
           "| repeats | median of %d timed phases per figure |" % options.repeat, "",
           "The machine is shared by several builds and noisy (about +-10 % run to run, more while others "
           "compile); the reference figures of WORKLOADS.md section 9 were measured on a machine of the same "
           "kind, not side by side, so a ratio within about 10 % of its bar is not conclusive either way.", "",
           "## Contract check", "",
           "`python3 ../shared/bench/workload_ref.py --check .build-bench/release/flashkvs-bench` "
           "(exit status %d):" % check.returncode, "", "```", check.stdout.rstrip(), "```", "",
           "## Targets of issue 7", "",
           "Ratios are ours / reference for throughput (higher is better) and ours / ours-at-K=100 for the "
           "get cost (lower is better). Reference figures: WORKLOADS.md section 9 (K=100: the table; K=1000: "
           "the larger configuration's us/op). The verdict uses the median of the runs, as the contract's "
           "`wall_s` does; the fastest run's ratio beside it shows how much the shared machine's load moved "
           "the median.", ""]
    out += targets_table(target_rows, projection_rows)
    out += ["| flash reads, writes, erases per op <= reference; bytes written identical (K=100, section 7) "
            "| section 7 table | see below | - | %s | - |%s" % (verdict(flash_met), " - |" if projection_rows else ""),
            "| no heap allocation in the timed phase of fill, update, read, mixed | 0 | %s | - | %s | - |%s" % (
                "max %d malloc calls" % max(c for _, _, c in timed_mallocs) if heap_counted else "not counted",
                verdict(heap_met and heap_counted), " - |" if projection_rows else ""), ""]
    if projection_rows:
        out += ["The *projection* column is the same benchmark, run in the same session (the two builds take "
                "turns on each workload), on %s. It is what "
                "those changes are expected to buy, not what the product does today." % projection_description,
                ""]

    out += ["## Flash traffic vs the reference (K=100, 16 sectors)", "",
            "Timed phase only, counted at the FlashMemory level. The reference's per-op call counts are the "
            "ones section 7 states in prose (n/p: not published).", ""]
    out += flash_lines + [""]

    out += ["## Results per configuration", ""]
    for title, keys, sectors, max_entries, workloads in CONFIGURATIONS:
        out += configuration_table(title, keys, sectors, max_entries, workloads, results) + [""]
        if keys == 1000 and ref["large"]:
            out += ["Reference at K=1000 (section 9): " + ", ".join(
                "%s %s us/op (ours %s, ratio %.2fx)" % (w, us(v), us(results[(1000, w)]["us_per_op"]),
                                                       v / results[(1000, w)]["us_per_op"])
                for w, v in ref["large"].items() if (1000, w) in results) + ".", ""]

    out += ["## Scaling: key count and partition size", "",
            "Get = `read`, put = `update`, init = `init` (construction + `initialize()` of a store over the "
            "filled flash). Store RAM is measured: the bytes requested from malloc while the `KeyValueStore` "
            "object is constructed (class instance, key table with its hash index above 64 keys, sector "
            "table; I/O buffers live on the stack; no other allocation happens later). The reference's RAM is computed from its buffer layout "
            "(PW_KVS_SPEC.md: 12 + 4 x redundancy bytes per key slot, 4 per sector, plus scratch).", "",
            "| keys | sectors (flash KiB) | max-entries | get us/op | get vs K=100 | put us/op | put vs K=100 "
            "| init us/op | init ns per key | store RAM bytes (measured) | pw_kvs layout bytes |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for title, keys, sectors, max_entries, workloads in CONFIGURATIONS:
        get, put, init = (results[(keys, w)] for w in ("read", "update", "init"))
        out.append("| %d | %d (%d) | %d | %s | %.2fx | %s | %.2fx | %s | %.0f | %s | %d |" % (
            keys, sectors, sectors * 4, max_entries, us(get["us_per_op"]),
            get["us_per_op"] / results[(100, "read")]["us_per_op"], us(put["us_per_op"]),
            put["us_per_op"] / results[(100, "update")]["us_per_op"], us(init["us_per_op"]),
            init["us_per_op"] * 1000 / keys, count(get["heap"]["store_construction_bytes"]),
            store_ram_reference(max_entries, sectors)))
    out += ["", "Put cost grows with the partition because garbage collection relocates more live entries "
            "per erased sector (more flash traffic per put: see the per-configuration tables) and because "
            "placement and collection scan every sector and every key (see the profile notes).", ""]

    out += ["## Heap allocations", "",
            "Counted by the benchmark itself: it defines `malloc`, `calloc`, `realloc` and the aligned "
            "allocators, counts each call and forwards to glibc (Sources/flashkvs-bench/HeapCounter.swift); "
            "`heap.counted` in the JSON says whether the counter was active (%s in these runs)." % (
                "it was" if heap_counted else "it was NOT"), "",
            "| configuration | workload | timed-phase malloc calls | timed-phase bytes | first run's timed-phase "
            "malloc calls | store construction (calls / bytes) | `initialize()` malloc calls |",
            "|---|---|---|---|---|---|---|"]
    for (keys, workload), d in results.items():
        h = d["heap"]
        out.append("| K=%d | %s | %s | %s | %s | %s / %s | %s |" % (
            keys, workload, count(h["timed_malloc_calls"]), count(h["timed_bytes_allocated"]),
            count(h.get("first_run_timed_malloc_calls")),
            count(h["store_construction_malloc_calls"]), count(h["store_construction_bytes"]),
            count(h["initialize_malloc_calls"])))
    out += ["", "The figures are those of the last of the %d runs of each configuration. The first run in a "
            "process can allocate a fixed number of times (independent of the op count) the first time a code "
            "path runs: the Swift runtime instantiating generic metadata for the unspecialized store "
            "(see the profile notes); later runs and all later ops allocate nothing. The `init` workload "
            "constructs a new store object per op, so its timed phase allocates the store's RAM each time (by "
            "design of the workload); `initialize()` itself allocates nothing." % options.repeat, ""]

    if projection:
        differing = [("K=%d %s" % key) for key, d in results.items()
                     if (d["flash"], d["setup_flash"], d["final"]) != (projection[key]["flash"],
                                                                        projection[key]["setup_flash"],
                                                                        projection[key]["final"])]
        out += ["## Projection: the recommended core changes, measured side by side", "",
                "Projection build: %s." % projection_description, "",
                "Flash traffic and final state of the projection build (the `flash`, `setup_flash` and `final` "
                "JSON of every run): %s." % ("identical to the standard build's in every run" if not differing
                                             else "DIFFERENT in " + ", ".join(differing)), "",
                "| configuration | workload | standard us/op | projection us/op | speed-up |",
                "|---|---|---|---|---|"]
        for (keys, workload), d in results.items():
            p = projection[(keys, workload)]
            out.append("| K=%d | %s | %s | %s | %.2fx |" % (keys, workload, us(d["us_per_op"]),
                                                          us(p["us_per_op"]), d["us_per_op"] / p["us_per_op"]))
        out.append("")

    notes = os.path.join(ROOT, "Scripts", "bench-notes.md")
    if os.path.exists(notes):
        out += [open(notes).read().rstrip(), ""]

    with open(options.output, "w") as report:
        report.write("\n".join(out))
    print("wrote %s" % options.output, file=sys.stderr)
    return 0 if check.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
