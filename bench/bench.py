"""costcalc benchmarks (not part of the tests): ratios and per-layer times, measured in one run.

    python bench/bench.py [--runs N] [--quick]

1. Start-up: wall time of `costcalc mobilenet --format json` as a ratio to
   `python -c "import yaml, click"`, both run N times, interleaved, in this run.
2. Scaling: analysis time (parse + graph + costs + the report dict) per layer on generated
   specs of 1,000 to 100,000 layers, written out one by one and produced by `repeat`;
   writing the report as JSON is timed apart.
3. Grids: a 20 x 20 sweep of MobileNetV2, in-process and as the command, and its ratio to
   one MobileNetV2 report; a compare of every shipped spec.
Targets (issue 2 and 4): ratio <= 1.5; 100,000 repeated layers < 1 s; 1,000 written-out
layers < 0.3 s; a 20 x 20 sweep < 1 s.
"""
import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from costcalc.graph import Settings, build  # noqa: E402
from costcalc.report import make_report  # noqa: E402
from costcalc.shipped import load  # noqa: E402
from costcalc.spec import load_spec  # noqa: E402

LAYER = "  - {{type: {kind}, k: 3, out: 16}}\n"


def timed(func, repeat=3):
    """Best wall time of ``repeat`` calls (the least disturbed by a noisy machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def startup(runs):
    costcalc = shutil.which("costcalc")
    ours = [costcalc, "mobilenet", "--format", "json"] if costcalc else [
        sys.executable, "-m", "costcalc", "mobilenet", "--format", "json"]
    base = [sys.executable, "-c", "import yaml, click"]
    times = {"costcalc": [], "baseline": []}
    for _ in range(runs):
        for key, cmd in (("costcalc", ours), ("baseline", base)):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times[key].append(time.perf_counter() - start)
    ours_t, base_t = statistics.median(times["costcalc"]), statistics.median(times["baseline"])
    return {"command": " ".join(os.path.basename(c) for c in ours[:1]) + " mobilenet --format json",
            "median_s": round(ours_t, 4), "baseline_median_s": round(base_t, 4),
            "ratio": round(ours_t / base_t, 3), "runs": runs, "target_ratio": 1.5}


def written_spec(n):
    return ("name: written\ninput: [16, 8, 8]\nlayers:\n"
            + "".join(LAYER.format(kind="conv") if i % 2 == 0 else "  - {type: relu}\n"
                      for i in range(n)))


def repeated_spec(n):
    return ("name: repeated\ninput: [16, 8, 8]\nlayers:\n"
            f"  - repeat: {n // 2}\n    layers:\n"
            "      - {type: conv, k: 3, out: 16}\n      - {type: relu}\n")


def analyse(path):
    """Parse, build the graph with costs, and make the report dict (not serialised)."""
    return make_report(build(load_spec(path), Settings()), path)


def scaling(sizes):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for style, make in (("written out", written_spec), ("repeat", repeated_spec)):
            for n in sizes:
                path = os.path.join(tmp, f"{style.replace(' ', '_')}_{n}.yaml")
                with open(path, "w") as handle:
                    handle.write(make(n))
                report = analyse(path)
                assert report["totals"]["layers"] == n
                seconds = timed(lambda: analyse(path), repeat=3 if n <= 10_000 else 2)
                to_json = timed(lambda: json.dumps(report, indent=2), repeat=1)
                rows.append({"style": style, "layers": n, "analysis_s": round(seconds, 4),
                             "us_per_layer": round(1e6 * seconds / n, 2),
                             "json_output_s": round(to_json, 4)})
    return rows


def grids():
    """The 20 x 20 sweep of MobileNetV2 in-process (costcalc.sweep.points, the code the
    command runs) and as the command; a compare of every shipped spec."""
    from costcalc import compare, sweep

    spec = load("mobilenet_v2")
    one = timed(lambda: make_report(build(spec, Settings()), "mobilenet_v2"), repeat=5)
    alphas = [round(0.25 + 0.05 * i, 4) for i in range(20)]
    rhos = [round(0.5 + 0.025 * i, 4) for i in range(20)]
    seconds = timed(lambda: sweep.points(spec, alphas, rhos), repeat=3)
    command = [shutil.which("costcalc") or "costcalc", "sweep", "mobilenet_v2",
               "--alpha", ",".join(map(str, alphas)), "--rho", ",".join(map(str, rhos)),
               "--format", "json"]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    command_s = time.perf_counter() - start
    names = _names()
    compare_s = timed(lambda: compare.run(names, 1.0, 1.0, None, {}), repeat=3)
    return {"sweep": {"spec": "mobilenet_v2", "grid": "20 x 20", "in_process_s": round(seconds, 3),
                      "command_s": round(command_s, 3), "one_report_s": round(one, 5),
                      "ratio_to_one_report": round(seconds / one, 1), "target_s": 1.0},
            "compare": {"specs": len(names), "seconds": round(compare_s, 3)}}


def _names():
    from costcalc.shipped import names
    return names()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    args = parser.parse_args()
    gc.disable()  # as the command line does (costcalc.cli.main)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    result = {"startup": startup(5 if args.quick else args.runs), "scaling": scaling(sizes),
              "grid": grids()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
