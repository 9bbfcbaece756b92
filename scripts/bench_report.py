#!/usr/bin/env python3
"""bench_report: the benchmark dashboard, build/bench/report/index.html.

One self-contained HTML page (inline CSS and SVG, no scripts, no network)
generated from the result files of build/bench/o2p_bench:

* the environment the results were measured on (and the baseline's);
* a summary table: median time per iteration with its 95 % CI, relative
  standard deviation, throughput (rows/s, MB/s), and - when a baseline or a
  comparison exists - the baseline median, ratio, p-value and verdict;
* per suite, a throughput bar chart (current and baseline rows/s);
* per benchmark, the sample distribution: every sample as a dot over a box
  plot (quartiles, median, whiskers at min/max), current above baseline on
  a shared axis, so a shift or a noisy run is visible at a glance;
* HTTP ingest latency percentiles; skipped benchmarks with their reason.

  scripts/bench_report.py --results build/bench/results \
      [--baseline build/bench/baselines/main] [--compare compare.json] --out index.html
"""
import argparse
import datetime
import html
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import load_results, median  # noqa: E402

CUR = '#2f6fb3'
BASE = '#c8702a'


def esc(s):
    return html.escape(str(s), quote=True)


def fmt_time(s):
    if s is None or s != s:
        return 'n/a'
    if s < 1e-6:
        return '%.1f ns' % (s * 1e9)
    if s < 1e-3:
        return '%.2f µs' % (s * 1e6)
    if s < 1:
        return '%.2f ms' % (s * 1e3)
    return '%.3f s' % s


def fmt_num(v):
    if v is None or v != v:
        return 'n/a'
    for div, suf in ((1e9, 'G'), (1e6, 'M'), (1e3, 'k')):
        if abs(v) >= div:
            return '%.2f%s' % (v / div, suf)
    return '%.0f' % v


def quartiles(xs):
    s = sorted(xs)

    def pct(p):
        pos = p * (len(s) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - lo)
    return s[0], pct(0.25), pct(0.5), pct(0.75), s[-1]


def dist_svg(name, cur, base):
    """Strip + box plot of per-iteration times; current row above baseline."""
    w, h, left, right = 720, 110 if base else 70, 90, 20
    series = [('current', cur, CUR)] + ([('baseline', base, BASE)] if base else [])
    allv = [v for _, xs, _ in series for v in xs]
    lo, hi = min(allv), max(allv)
    if hi <= lo:
        hi = lo * 1.01 + 1e-12
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad

    def x(v):
        return left + (v - lo) / (hi - lo) * (w - left - right)
    out = ['<svg class="chart dist" role="img" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d"><title>%s sample distribution</title>' % (w, h, w, h, esc(name))]
    for row, (label, xs, color) in enumerate(series):
        cy = 22 + row * 40
        mn, q1, md, q3, mx = quartiles(xs)
        out.append('<text x="4" y="%d" class="lbl">%s (n=%d)</text>' % (cy + 4, label, len(xs)))
        out.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s" stroke-width="1"/>'
                   % (x(mn), x(mx), cy, cy, color))
        out.append('<rect x="%.1f" y="%d" width="%.1f" height="20" fill="%s" fill-opacity="0.15" '
                   'stroke="%s"/>' % (x(q1), cy - 10, max(x(q3) - x(q1), 1), color, color))
        out.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s" stroke-width="3"/>'
                   % (x(md), x(md), cy - 12, cy + 12, color))
        for i, v in enumerate(xs):
            jitter = ((i * 7919) % 17 - 8) * 0.9
            out.append('<circle cx="%.1f" cy="%.1f" r="2.6" fill="%s" fill-opacity="0.7">'
                       '<title>%s</title></circle>' % (x(v), cy + jitter, color, fmt_time(v)))
    axis_y = h - 14
    out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#999"/>' % (left, w - right, axis_y, axis_y))
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        out.append('<text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>'
                   % (x(v), h - 2, fmt_time(v)))
    out.append('</svg>')
    return ''.join(out)


def bars_svg(suite, rows):
    """Horizontal bars of rows/s per benchmark of a suite (baseline thinner)."""
    bar_h, gap, left, w = 14, 10, 250, 720
    h = 20 + len(rows) * (bar_h * 2 + gap)
    vmax = max([r[1] for r in rows] + [r[2] or 0 for r in rows]) or 1
    out = ['<svg class="chart bars" role="img" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d"><title>%s throughput (rows/s)</title>' % (w, h, w, h, esc(suite))]
    for i, (name, cur, base) in enumerate(rows):
        y = 10 + i * (bar_h * 2 + gap)
        out.append('<text x="%d" y="%d" class="lbl" text-anchor="end">%s</text>'
                   % (left - 6, y + bar_h - 3, esc(name)))
        cw = (w - left - 110) * cur / vmax
        out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>current %s rows/s</title>'
                   '</rect>' % (left, y, max(cw, 1), bar_h, CUR, fmt_num(cur)))
        out.append('<text x="%.1f" y="%d" class="tick">%s rows/s</text>' % (left + cw + 4, y + bar_h - 3,
                                                                          fmt_num(cur)))
        if base:
            bw = (w - left - 110) * base / vmax
            out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>baseline %s rows/s'
                       '</title></rect>' % (left, y + bar_h + 1, max(bw, 1), bar_h - 6, BASE, fmt_num(base)))
    out.append('</svg>')
    return ''.join(out)


def env_table(env, title):
    if not env:
        return ''
    rows = ''.join('<tr><th>%s</th><td>%s</td></tr>' % (esc(k), esc(v)) for k, v in env.items())
    return '<table class="env"><caption>%s</caption>%s</table>' % (esc(title), rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--results', default='build/bench/results')
    ap.add_argument('--baseline')
    ap.add_argument('--compare')
    ap.add_argument('--out', default='build/bench/report/index.html')
    a = ap.parse_args()

    cur = load_results(a.results)
    base = load_results(a.baseline) if a.baseline else {}
    cmp_rows = {}
    if a.compare and os.path.exists(a.compare):
        with open(a.compare) as f:
            cmp_rows = {r['name']: r for r in json.load(f).get('results', [])}
    if not cur:
        print('bench_report: no results in %s (run make bench)' % a.results, file=sys.stderr)
        return 1

    ok = {n: r for n, r in cur.items() if r.get('status') == 'ok'}
    skipped = {n: r for n, r in cur.items() if r.get('status') != 'ok'}
    env = next(iter(cur.values())).get('env', {})
    benv = next(iter(base.values())).get('env', {}) if base else {}

    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
             '<title>otlp2parquet benchmarks</title><style>'
             'body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}'
             'table{border-collapse:collapse;margin:8px 0 20px}td,th{padding:3px 8px;border-bottom:1px solid #ddd;'
             'text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}'
             'td:first-child,th:first-child{text-align:left}table.env td{text-align:left}'
             'caption{text-align:left;font-weight:600;padding:4px 0}.regressed{color:#b00020;font-weight:600}'
             '.improved{color:#17803d;font-weight:600}.lbl{font-size:11px;fill:#333}.tick{font-size:10px;fill:#666}'
             '.case{margin:14px 0 22px}.case h3{margin:0 0 2px;font-size:14px}.params{color:#666;font-size:12px}'
             '.legend span{display:inline-block;width:12px;height:12px;margin:0 4px -2px 12px}</style></head><body>']
    parts.append('<h1>otlp2parquet benchmarks</h1>')
    parts.append('<p>Generated %s from <code>%s</code>%s. Times are per iteration (lower is better); '
                 'throughput is computed from the median. <span class="legend"><span style="background:%s">'
                 '</span>current<span style="background:%s"></span>baseline</span></p>' % (
                     esc(datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%SZ')),
                     esc(a.results), (' vs baseline <code>%s</code>' % esc(a.baseline)) if base else '',
                     CUR, BASE))
    parts.append('<div style="display:flex;gap:24px;flex-wrap:wrap">%s%s</div>' % (
        env_table(env, 'Environment (current)'), env_table(benv, 'Environment (baseline)')))

    # Summary table.
    parts.append('<h2>Summary</h2><table id="summary"><tr><th>benchmark</th><th>median</th><th>95% CI</th>'
                 '<th>rel. sd</th><th>rows/s</th><th>MB/s</th><th>samples</th><th>baseline</th><th>ratio</th>'
                 '<th>95% CI of ratio</th><th>p</th><th>verdict</th></tr>')
    for name, r in sorted(ok.items()):
        st = r['stats']
        b = base.get(name)
        c = cmp_rows.get(name, {})
        verdict = c.get('verdict', '')
        parts.append('<tr><td>%s</td><td>%s</td><td>%s – %s</td><td>%.1f%%</td><td>%s</td><td>%.1f</td>'
                     '<td>%d×%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class="%s">%s</td></tr>' % (
                         esc(name), fmt_time(st['median']), fmt_time(st['ci95_low']), fmt_time(st['ci95_high']),
                         100 * st['stddev'] / st['median'] if st['median'] else 0,
                         fmt_num(r['throughput']['rows_per_sec']), r['throughput']['mb_per_sec'] or 0,
                         st['n'], r['iters_per_sample'],
                         fmt_time(b['stats']['median']) if b and b.get('status') == 'ok' else '',
                         '%.3f' % c['ratio'] if 'ratio' in c else '',
                         '%.3f – %.3f' % tuple(c['ratio_ci95']) if 'ratio_ci95' in c else '',
                         '%.2g' % c['p_value'] if 'p_value' in c else '',
                         verdict.replace(' ', '-'), esc(verdict)))
    parts.append('</table>')

    # HTTP latency.
    http = [(n, r) for n, r in sorted(ok.items()) if 'latency_ms' in r.get('extra', {})]
    if http:
        parts.append('<h2>HTTP ingest latency</h2><table id="http"><tr><th>benchmark</th><th>records/request</th>'
                     '<th>rows/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>requests</th>'
                     '<th>429/503</th><th>server peak RSS</th><th>start-up ms</th></tr>')
        for n, r in http:
            e = r['extra']
            lat = e['latency_ms']
            parts.append('<tr><td>%s</td><td>%d</td><td>%s</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td>'
                         '<td>%d</td><td>%d</td><td>%.1f MiB</td><td>%.1f</td></tr>' % (
                             esc(n), e['records_per_request'], fmt_num(r['throughput']['rows_per_sec']),
                             lat['p50'], lat['p95'], lat['p99'], lat['max'], lat['requests'],
                             e['status_429_503'], (e['server_peak_rss_bytes'] or 0) / 1048576,
                             e['server_startup_ms'] or 0))
        parts.append('</table>')

    # Issue 12 targets for the mixed10 workload (server defaults: 512 MiB
    # budget unless O2P_BENCH_BUDGET_MIB says otherwise).
    mixed = {n: r for n, r in ok.items() if r.get('extra', {}).get('workload') == 'mixed10'}
    if mixed:
        budget = float(os.environ.get('O2P_BENCH_BUDGET_MIB', '512'))
        rss_cap = budget * 1.1 + 32
        rows = []
        c2 = mixed.get('http.mixed10.c2')
        c2_rate = c2['throughput']['rows_per_sec'] if c2 else None
        for n, r in sorted(mixed.items()):
            e = r['extra']
            rate = r['throughput']['rows_per_sec'] or 0
            rss = (e.get('server_peak_rss_bytes') or 0) / 1048576
            if n == 'http.mixed10.c2':
                rows.append((n, '>= 500 k rows/s', fmt_num(rate), rate >= 500e3))
                rows.append((n, 'p99 <= 10 ms', '%.2f ms' % e['latency_ms']['p99'], e['latency_ms']['p99'] <= 10))
                rows.append((n, '0 refused', '%d' % e['refused'], e['refused'] == 0))
            if n == 'http.mixed10.c16' and c2_rate:
                rows.append((n, '>= 90 % of c2 rows/s', '%.0f %%' % (100 * rate / c2_rate), rate >= 0.9 * c2_rate))
            rows.append((n, 'peak RSS <= %.0f MiB' % rss_cap, '%.1f MiB' % rss, rss <= rss_cap))
        parts.append('<h2>Issue 12 targets (mixed10)</h2><table id="targets"><tr><th>benchmark</th>'
                     '<th>target</th><th>measured</th><th>met</th></tr>')
        for n, t, m, met in rows:
            parts.append('<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
                esc(n), esc(t), esc(m), 'yes' if met else '<b>no</b>'))
        parts.append('</table>')

    # Issue 10 point 7: the WAL's cost against its memory-mode reference in
    # the same run (>= 80 % of the rows/s, p99 <= 10 ms at 1,000 records).
    wal_refs = {'http.wal.r1000.always': 'http.wal.r1000.memory',
                'http.wal.r1000.interval': 'http.wal.r1000.memory',
                'http.wal.r1000.c2.always': 'http.wal.r1000.c2.memory',
                'http.wal.rate300k.always': 'http.wal.rate300k.memory',
                'http.wal.r1000.spare': 'http.wal.r1000.memory',
                'http.wal.r1000.c2.spare': 'http.wal.r1000.c2.memory',
                'http.wal.rate300k.spare': 'http.wal.rate300k.memory',
                'http.mixed10.c2.wal': 'http.mixed10.c2',
                'http.mixed10.c2.wal_interval': 'http.mixed10.c2',
                'http.mixed10.c16.wal': 'http.mixed10.c16'}
    wal_rows = []
    for n, ref in sorted(wal_refs.items()):
        r, m = ok.get(n), ok.get(ref)
        if r is None:
            continue
        e = r['extra']
        w = e.get('wal', {})
        rate = r['throughput']['rows_per_sec'] or 0
        mrate = m['throughput']['rows_per_sec'] if m else None
        wal_rows.append((n, ref if m else '(not run)',
                         '%.0f %%' % (100 * rate / mrate) if mrate else '',
                         'yes' if mrate and rate >= 0.8 * mrate else ('<b>no</b>' if mrate else ''),
                         '%.2f' % e['latency_ms']['p99'], 'yes' if e['latency_ms']['p99'] <= 10 else '<b>no</b>',
                         '%.0f' % w.get('syncs_per_sec', 0), '%.2f' % w.get('requests_per_sync', 0),
                         '%.0f' % w.get('bytes_per_row', 0), esc(e.get('wal_fs', ''))))
    if wal_rows:
        parts.append('<h2>Issue 10 targets (durability cost)</h2><table id="wal"><tr><th>benchmark</th>'
                     '<th>memory reference</th><th>rows/s vs memory</th><th>&gt;= 80 %</th><th>p99 ms</th>'
                     '<th>p99 &lt;= 10 ms</th><th>WAL syncs/s</th><th>requests/sync</th><th>WAL bytes/row</th>'
                     '<th>WAL filesystem</th></tr>')
        for row in wal_rows:
            parts.append('<tr>' + ''.join('<td>%s</td>' % (esc(c) if i < 2 else c) for i, c in enumerate(row)) + '</tr>')
        parts.append('</table>')

    # Per suite: throughput bars, then each benchmark's distribution.
    suites = {}
    for name, r in sorted(ok.items()):
        suites.setdefault(r['suite'], []).append((name, r))
    for suite, items in suites.items():
        parts.append('<h2 id="suite-%s">Suite: %s</h2>' % (esc(suite), esc(suite)))
        bars = []
        for name, r in items:
            b = base.get(name)
            bars.append((name, r['throughput']['rows_per_sec'] or 0,
                         b['throughput']['rows_per_sec'] if b and b.get('status') == 'ok' else None))
        parts.append(bars_svg(suite, bars))
        for name, r in items:
            b = base.get(name)
            bs = b['samples'] if b and b.get('status') == 'ok' else None
            c = cmp_rows.get(name)
            note = ''
            if c and 'ratio' in c:
                note = ' — <span class="%s">%s</span> (ratio %.3f, p=%.2g)' % (
                    c['verdict'].replace(' ', '-'), esc(c['verdict']), c['ratio'], c['p_value'])
            parts.append('<div class="case"><h3>%s%s</h3><div class="params">%s — median %s, %s rows/s, '
                         '%.1f MB/s</div>%s</div>' % (
                             esc(name), note, esc(r.get('params', '')), fmt_time(r['stats']['median']),
                             fmt_num(r['throughput']['rows_per_sec']), r['throughput']['mb_per_sec'] or 0,
                             dist_svg(name, r['samples'], bs)))
    if skipped:
        parts.append('<h2>Skipped</h2><ul>%s</ul>' % ''.join(
            '<li><b>%s</b>: %s</li>' % (esc(n), esc(r.get('reason', ''))) for n, r in sorted(skipped.items())))
    parts.append('</body></html>\n')
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, 'w') as f:
        f.write(''.join(parts))
    print('bench_report: %d benchmarks (%d skipped) -> %s' % (len(ok), len(skipped), a.out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
