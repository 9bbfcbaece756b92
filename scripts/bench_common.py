"""bench_common: shared helpers of the benchmark scripts (python3 stdlib only).

Loading result files written by build/bench/o2p_bench, and the two
statistics bench_compare uses:

* Mann-Whitney U (two-sided): does one set of samples tend to be larger
  than the other?  Rank-based, so a few outliers from a noisy machine do not
  swing it.  Exact p-value by enumerating the U distribution when both sets
  are small and have no ties; otherwise the normal approximation with tie
  correction and continuity correction.
* A bootstrap 95 % confidence interval of the ratio of medians
  (current / baseline): how much faster or slower, with its uncertainty.
"""
import json
import math
import os
import random


def load_results(directory):
    """Maps benchmark name -> parsed result JSON for every *.json file."""
    out = {}
    if not directory or not os.path.isdir(directory):
        return out
    for fn in sorted(os.listdir(directory)):
        if not fn.endswith('.json'):
            continue
        try:
            with open(os.path.join(directory, fn)) as f:
                r = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(r, dict) and r.get('schema') == 'o2p-bench-result/1' and 'name' in r:
            out[r['name']] = r
    return out


def median(xs):
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return float('nan')
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def _ranks(values):
    """Average ranks (1-based) and the tie groups' sizes."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        avg = (i + j) / 2.0 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = avg
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def _exact_u_cdf(n1, n2):
    """Counts of each U value over all arrangements (no ties)."""
    # f[i][j] = list of counts of U for samples of sizes i, j (recurrence on
    # whether the largest element belongs to the first sample).
    from functools import lru_cache

    @lru_cache(maxsize=None)
    def dist(i, j):
        if i == 0 or j == 0:
            return (1,)
        a = dist(i - 1, j)          # largest in sample 1: contributes j to U
        b = dist(i, j - 1)          # largest in sample 2: contributes 0
        size = i * j + 1
        out = [0] * size
        for u, c in enumerate(a):
            out[u + j] += c
        for u, c in enumerate(b):
            out[u] += c
        return tuple(out)
    return dist(n1, n2)


def mann_whitney_u(x, y):
    """Two-sided Mann-Whitney U test; returns (U of x, p-value, method)."""
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        return float('nan'), float('nan'), 'none'
    ranks, ties = _ranks(list(x) + list(y))
    r1 = sum(ranks[:n1])
    u1 = r1 - n1 * (n1 + 1) / 2.0
    if not ties and n1 * n2 <= 2500 and n1 <= 50 and n2 <= 50:
        counts = _exact_u_cdf(n1, n2)
        total = float(sum(counts))
        u_small = min(u1, n1 * n2 - u1)
        tail = sum(counts[:int(math.floor(u_small)) + 1]) / total
        return u1, min(1.0, 2 * tail), 'exact'
    n = n1 + n2
    mu = n1 * n2 / 2.0
    tie_term = sum(t ** 3 - t for t in ties) / (n * (n - 1)) if n > 1 else 0
    sigma = math.sqrt(n1 * n2 / 12.0 * ((n + 1) - tie_term))
    if sigma == 0:
        return u1, 1.0, 'normal'
    z = (abs(u1 - mu) - 0.5) / sigma
    p = math.erfc(max(z, 0) / math.sqrt(2))
    return u1, min(1.0, p), 'normal'


def bootstrap_ratio_ci(base, cur, resamples=2000, seed=20240611):
    """95 % percentile-bootstrap CI of median(cur) / median(base)."""
    rng = random.Random(seed)
    ratios = []
    nb, nc = len(base), len(cur)
    for _ in range(resamples):
        mb = median([base[rng.randrange(nb)] for _ in range(nb)])
        mc = median([cur[rng.randrange(nc)] for _ in range(nc)])
        if mb > 0:
            ratios.append(mc / mb)
    ratios.sort()
    if not ratios:
        return float('nan'), float('nan')

    def pct(p):
        pos = p / 100.0 * (len(ratios) - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, len(ratios) - 1)
        return ratios[lo] + (ratios[hi] - ratios[lo]) * (pos - lo)
    return pct(2.5), pct(97.5)


def compare(base_samples, cur_samples, threshold_pct, alpha):
    """Verdict for one benchmark (samples are seconds per iteration: lower is
    better).  Significant = Mann-Whitney p < alpha AND the ratio's CI
    excludes 1; a significant change smaller than the threshold is still
    'no change' (within the noise threshold)."""
    mb, mc = median(base_samples), median(cur_samples)
    ratio = mc / mb if mb > 0 else float('nan')
    _, p, method = mann_whitney_u(cur_samples, base_samples)
    lo, hi = bootstrap_ratio_ci(base_samples, cur_samples)
    significant = p < alpha and (lo > 1 or hi < 1)
    change_pct = (ratio - 1) * 100
    if significant and change_pct > threshold_pct:
        verdict = 'regressed'
    elif significant and change_pct < -threshold_pct:
        verdict = 'improved'
    else:
        verdict = 'no change'
    reason = ('significant' if significant else 'not significant') + \
        ('' if abs(change_pct) > threshold_pct else ', within the %.1f %% noise threshold' % threshold_pct)
    return {
        'baseline_median': mb, 'current_median': mc, 'ratio': ratio, 'change_pct': change_pct,
        'ratio_ci95': [lo, hi], 'p_value': p, 'test': 'mann-whitney-u (%s)' % method,
        'verdict': verdict, 'reason': reason,
        'n_baseline': len(base_samples), 'n_current': len(cur_samples),
    }
