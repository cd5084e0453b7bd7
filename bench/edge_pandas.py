"""The pandas side of bench/run_edge.sh: the same points (read from the file the C
bench wrote), the same windows: rolling mean and std over 60 points, an EWMA mean
and variance (alpha 0.05) scored as a z-score against the previous point's
statistics, and the rule (z > 6 and value > 0). The deadband is a sequential
recurrence pandas cannot vectorise; it is left out here, so pandas does less work
than the C pipeline. Prints points per second (best of ROUNDS)."""
import sys
import time

import numpy as np
import pandas as pd


def once(v):
    s = pd.Series(v)
    mean = s.rolling(60).mean()[59::60]
    std = s.rolling(60).std()[59::60]
    m = s.ewm(alpha=0.05, adjust=False).mean()
    var = s.ewm(alpha=0.05, adjust=False).var(bias=True)
    z = (s - m.shift(1)).abs() / np.sqrt(var.shift(1))
    hot = (z > 6) & (s > 0)
    fired = hot & ~hot.shift(1, fill_value=False)
    return int(fired.sum()), len(mean), len(std)


def main():
    path, rounds = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
    v = np.fromfile(path, dtype=np.float64)
    best = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        fired, _, _ = once(v)
        dt = time.perf_counter() - t0
        best = dt if best is None or dt < best else best
    print(f"pandas {pd.__version__}: {len(v)} points in {best:.3f} s: {len(v) / best / 1e6:.2f} million points/s; "
          f"rule fired {fired} times")
    print(f"PANDAS_PPS {len(v) / best:.0f}")


if __name__ == "__main__":
    main()
