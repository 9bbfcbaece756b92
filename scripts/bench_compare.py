#!/usr/bin/env python3
"""bench_compare: current benchmark results vs a saved baseline.

For every benchmark present in both directories it prints the ratio of
medians (current / baseline time per iteration: < 1 is faster), its 95 %
bootstrap confidence interval, the Mann-Whitney U p-value, and a verdict:

  regressed   significant (p < alpha and the ratio's CI excludes 1) and
              slower by more than the threshold (default 2 %)
  improved    significant and faster by more than the threshold
  no change   otherwise (the reason says which condition failed)

Exit status: 1 when any benchmark regressed, 2 on usage errors, else 0.
Also warns when the two runs' environments differ (CPU, compiler, CFLAGS),
because such a comparison measures the machine, not the change.

  scripts/bench_compare.py --baseline build/bench/baselines/main \
      --current build/bench/results [--threshold 2] [--alpha 0.05] [--json out.json]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import compare, load_results  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--baseline', required=True)
    ap.add_argument('--current', required=True)
    ap.add_argument('--threshold', type=float, default=2.0, help='noise threshold in percent')
    ap.add_argument('--alpha', type=float, default=0.05, help='significance level')
    ap.add_argument('--json', help='write the comparison as JSON here')
    a = ap.parse_args()

    base = load_results(a.baseline)
    cur = load_results(a.current)
    if not base:
        print('bench_compare: no results in baseline %s' % a.baseline, file=sys.stderr)
        return 2
    if not cur:
        print('bench_compare: no results in %s' % a.current, file=sys.stderr)
        return 2

    rows = []
    for name in sorted(set(base) | set(cur)):
        b, c = base.get(name), cur.get(name)
        if b is None or c is None or b.get('status') != 'ok' or c.get('status') != 'ok':
            why = 'only in baseline' if c is None else 'only in current' if b is None else \
                'skipped (%s)' % (c.get('reason') or b.get('reason') or 'status not ok')
            rows.append({'name': name, 'verdict': 'not compared', 'reason': why})
            continue
        r = compare(b['samples'], c['samples'], a.threshold, a.alpha)
        r['name'] = name
        rows.append(r)

    env_diffs = []
    any_b = next(iter(base.values())).get('env', {})
    any_c = next(iter(cur.values())).get('env', {})
    for k in ('cpu_model', 'cpus_online', 'compiler', 'cflags'):
        if any_b.get(k) != any_c.get(k):
            env_diffs.append('%s: baseline %r, current %r' % (k, any_b.get(k), any_c.get(k)))

    print('comparing %s (baseline %s) with %s (%s)' % (
        a.baseline, any_b.get('git_revision', '?')[:12], a.current, any_c.get('git_revision', '?')[:12]))
    print('noise threshold %.1f %%, alpha %.3g; time ratio = current / baseline (< 1 is faster)'
          % (a.threshold, a.alpha))
    for d in env_diffs:
        print('WARNING: environments differ, %s' % d)
    print('%-36s %11s %11s %7s %17s %9s  %s' % ('benchmark', 'baseline', 'current', 'ratio',
                                             '95% CI of ratio', 'p', 'verdict'))
    counts = {}
    for r in rows:
        counts[r['verdict']] = counts.get(r['verdict'], 0) + 1
        if r['verdict'] == 'not compared':
            print('%-36s %s: %s' % (r['name'], r['verdict'], r['reason']))
            continue
        mark = {'regressed': 'REGRESSED', 'improved': 'improved'}.get(r['verdict'], 'no change')
        print('%-36s %11s %11s %7.3f [%6.3f .. %6.3f] %9.2g  %s (%+.1f %%; %s)' % (
            r['name'], fmt_time(r['baseline_median']), fmt_time(r['current_median']), r['ratio'],
            r['ratio_ci95'][0], r['ratio_ci95'][1], r['p_value'], mark, r['change_pct'], r['reason']))
    print('summary: ' + ', '.join('%d %s' % (v, k) for k, v in sorted(counts.items())))
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, 'w') as f:
            json.dump({'schema': 'o2p-bench-compare/1', 'baseline': a.baseline, 'current': a.current,
                       'threshold_pct': a.threshold, 'alpha': a.alpha, 'env_differences': env_diffs,
                       'results': rows}, f, indent=1)
    return 1 if counts.get('regressed') else 0


def fmt_time(s):
    if s != s:
        return 'n/a'
    if s < 1e-6:
        return '%.1f ns' % (s * 1e9)
    if s < 1e-3:
        return '%.2f us' % (s * 1e6)
    if s < 1:
        return '%.2f ms' % (s * 1e3)
    return '%.3f s' % s


if __name__ == '__main__':
    sys.exit(main())
