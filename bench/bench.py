"""costcalc benchmark (not part of the tests): whole commands, timed against a baseline.

    python bench/bench.py [--runs N] [--quick] [--before REV] [--readme]

Every figure is a whole command, `python -m costcalc ...`, run by this interpreter
(sys.executable), interleaved with the baseline `python -c "import yaml, click"` run by the
same interpreter in the same run. Each is run N times; the median, min and max are shown, and
the ratio is of the medians. Generated specs come in two cases, labelled:

- typical: every layer written out in the YAML (each entry parsed, checked and costed);
- best: the same layers produced by `repeat` (one entry, its shape and costs memoised).

--before REV also runs every command on the tree of git revision REV (extracted with
`git archive` into a temporary folder, run from there), in the same run; both trees run
from bytecode written first (compileall, as an installed package does), so that the two
sets of figures come from the same machine and moment. --readme rewrites bench/README.md
from the result; the JSON of the run is printed either way.

Targets (issue 11): `--format json` of 100,000 layers within 12 times the baseline; the
default table of 10,000 layers within 15 times it; 1,000,000 layers in JSON in under 1.5 GB
of peak memory (resident set of the command). Start-up (issue 2): within 1.5 times.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BASELINE = [sys.executable, "-c", "import yaml, click"]
PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
        "stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def written_spec(n):
    """The typical case: n layers written out, a conv and a relu in turn."""
    return ("name: written\ninput: [16, 8, 8]\nlayers:\n"
            + "".join("  - {type: conv, k: 3, out: 16}\n" if i % 2 == 0
                      else "  - {type: relu}\n" for i in range(n)))


def repeated_spec(n):
    """The best case: the same n layers from one repeat."""
    return ("name: repeated\ninput: [16, 8, 8]\nlayers:\n"
            f"  - repeat: {n // 2}\n    layers:\n"
            "      - {type: conv, k: 3, out: 16}\n      - {type: relu}\n")


def stats(times):
    return {"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4),
            "max_s": round(max(times), 4)}


def wall(cmd, cwd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def timed(cases, trees, runs):
    """Each case on each tree, `runs` times, interleaved with the baseline."""
    results = []
    for case in cases:
        times = {name: [] for name in trees}
        base = []
        for _ in range(case.get("runs", runs)):
            base.append(wall(BASELINE, ROOT))
            for name, tree in trees.items():
                times[name].append(wall([sys.executable, "-m", "costcalc"] + case["args"], tree))
        row = {"case": case["label"], "command": "costcalc " + " ".join(case["shown"]),
               "runs": len(base), "baseline": stats(base)}
        for name in trees:
            row[name] = dict(stats(times[name]), ratio=round(
                statistics.median(times[name]) / statistics.median(base), 2))
        results.append(row)
        print(f"  {row['case']}: " + ", ".join(f"{n} {row[n]['median_s']} s ({row[n]['ratio']}x)"
                                               for n in trees), file=sys.stderr)
    return results


def peak(case, trees):
    """Peak resident memory (MB) and wall time of one run of the case on each tree."""
    row = {"case": case["label"], "command": "costcalc " + " ".join(case["shown"])}
    for name, tree in trees.items():
        cmd = [sys.executable, "-c", PEAK, sys.executable, "-m", "costcalc"] + case["args"]
        start = time.perf_counter()
        kb = int(subprocess.run(cmd, check=True, cwd=tree, capture_output=True,
                                text=True).stdout)
        row[name] = {"peak_mb": round(kb / 1024), "seconds": round(time.perf_counter() - start, 2)}
        print(f"  {row['case']} {name}: {row[name]}", file=sys.stderr)
    return row


def cases(tmp, quick):
    def spec(make, n):
        path = os.path.join(tmp, f"{make.__name__}_{n}.yaml")
        if not os.path.exists(path):
            with open(path, "w") as handle:
                handle.write(make(n))
        return path

    def case(label, make, n, *options, runs=None):
        path = spec(make, n)
        item = {"label": label, "args": [path, *options],
                "shown": [f"{make.__name__}({n:,})", *options]}
        if runs:
            item["runs"] = runs
        return item

    small, big = (1_000, 10_000) if quick else (10_000, 100_000)
    timing = [
        {"label": "start-up, json", "args": ["mobilenet", "--format", "json"],
         "shown": ["mobilenet", "--format", "json"]},
        {"label": "start-up, table", "args": ["mobilenet"], "shown": ["mobilenet"]},
        {"label": "zoo table (efficientnet_b7, all layers)",
         "args": ["efficientnet_b7", "--all-layers"], "shown": ["efficientnet_b7", "--all-layers"]},
        case(f"json, {big:,} layers, best", repeated_spec, big, "--format", "json"),
        case(f"json, {big:,} layers, typical", written_spec, big, "--format", "json",
             runs=3),
        case(f"csv, {big:,} layers, best", repeated_spec, big, "--format", "csv"),
        case(f"table, {small:,} layers, best", repeated_spec, small),
        case(f"table, {small:,} layers, typical", written_spec, small),
        {"label": "sweep 20 x 20 of mobilenet_v2, json",
         "args": ["sweep", "mobilenet_v2", "--alpha", ",".join(
             str(round(0.25 + 0.05 * i, 4)) for i in range(20)), "--rho", ",".join(
             str(round(0.5 + 0.025 * i, 4)) for i in range(20)), "--format", "json"],
         "shown": ["sweep", "mobilenet_v2", "--alpha", "<20 values>", "--rho", "<20 values>",
                   "--format", "json"]},
    ]
    n = 100_000 if quick else 1_000_000
    memory = case(f"json, {n:,} layers, best", repeated_spec, n, "--format", "json")
    return timing, memory


def working_tree():
    """The revision the working tree is at, and whether it has changes (git describe)."""
    done = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                          capture_output=True, text=True)
    return f"revision `{done.stdout.strip()}`" if done.returncode == 0 else "the working tree"


def extract(rev, tmp):
    """The tree of ``rev`` in a folder of its own (git archive: the repository is untouched)."""
    folder = os.path.join(tmp, "before")
    os.makedirs(folder)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    return folder


def compiled(tree):
    """Write the bytecode of ``tree``'s costcalc, as ``pip install`` does: with
    PYTHONDONTWRITEBYTECODE set (or a fresh archive) every command would otherwise compile
    each module it imports, and a tree of more modules would pay for it at every start."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(tree, "costcalc")],
                   check=True, stdout=subprocess.DEVNULL)


TARGETS = {"json, 100,000 layers, best": ("ratio", 12), "table, 10,000 layers, best": ("ratio", 15),
           "start-up, json": ("ratio", 1.5), "json, 1,000,000 layers, best": ("peak_mb", 1536)}


def readme(result):
    """bench/README.md, written from one run's result."""
    trees = result["trees"]
    head = " | ".join(f"{n}: median (min-max) | {n}: ratio" for n in trees)
    doc = __doc__.split("\n\n")
    lines = [
        "# Benchmark", "",
        "Generated by `python bench/bench.py --readme` from one run (do not edit by hand), "
        "whose figures are in [run.json](run.json); "
        + ("the two trees were measured in the same run, interleaved: `before` is "
           f"revision `{result['before']}`, `after` {result.get('tree', 'the working tree')}."
           if "after" in trees and "before" in trees
           else f"one tree: {result.get('tree', 'the working tree')}."), "",
        "```sh\n" + doc[1].strip() + "\n```", "",
        "\n\n".join(part.strip() for part in doc[2:]), "",
        f"Machine: {result['machine']}; Python {result['python']}; "
        f"{result['runs']} runs per figure unless the row says otherwise; "
        f"{result['date']}.", "",
        "Times in seconds; ratio = median / median of the baseline "
        "`python -c \"import yaml, click\"` run in the same loop.", "",
        f"| case | command | runs | baseline median | {head} | target |",
        "| --- | --- | ---: | ---: | " + " | ".join("---: | ---:" for _ in trees) + " | --- |",
    ]
    for row in result["timing"]:
        cells = [row["case"], f"`{row['command']}`", str(row["runs"]),
                 f"{row['baseline']['median_s']:.3f}"]
        for n in trees:
            r = row[n]
            cells += [f"{r['median_s']:.3f} ({r['min_s']:.3f}-{r['max_s']:.3f})",
                      f"{r['ratio']:.2f}x"]
        kind, limit = TARGETS.get(row["case"], (None, None))
        cells.append(f"<= {limit}x" if kind == "ratio" else "")
        lines.append("| " + " | ".join(cells) + " |")
    row = result["memory"]
    lines += ["", "Peak memory (resident set, one run each):", "",
              "| case | command | " + " | ".join(f"{n}: peak MB | {n}: seconds"
                                                 for n in trees) + " | target |",
              "| --- | --- | " + " | ".join("---: | ---:" for _ in trees) + " | --- |",
              "| " + " | ".join([row["case"], f"`{row['command']}`"] + [
                  f"{row[n][k]}" for n in trees for k in ("peak_mb", "seconds")]
                  + ["< 1536 MB" if row["case"] in TARGETS else ""]) + " |", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, 3 runs")
    parser.add_argument("--before", metavar="REV", help="also time git revision REV")
    parser.add_argument("--readme", action="store_true",
                        help="rewrite bench/README.md and bench/run.json")
    parser.add_argument("--from-json", metavar="FILE",
                        help="rewrite bench/README.md from a run's saved JSON, without running")
    args = parser.parse_args()
    if args.from_json:
        with open(args.from_json) as handle:
            result = json.load(handle)
        write_readme(result)
        return
    runs = 3 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"after": ROOT}
        if args.before:
            trees = {"before": extract(args.before, tmp), "after": ROOT}
        for tree in trees.values():   # from bytecode, as an installed package runs
            compiled(tree)
        timing, memory = cases(tmp, args.quick)
        result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
                  "python": platform.python_version(), "date": time.strftime("%Y-%m-%d"),
                  "runs": runs, "trees": list(trees), "timing": timed(timing, trees, runs),
                  "memory": peak(memory, trees)}
        result["tree"] = working_tree()
        if args.before:
            result["before"] = args.before
    print(json.dumps(result, indent=2))
    if args.readme:
        write_readme(result)


def write_readme(result):
    """bench/README.md and, beside it, run.json: the run it was written from."""
    with open(os.path.join(HERE, "run.json"), "w") as handle:
        handle.write(json.dumps(result, indent=2) + "\n")
    with open(os.path.join(HERE, "README.md"), "w") as handle:
        handle.write(readme(result))


if __name__ == "__main__":
    main()
