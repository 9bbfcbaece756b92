#!/usr/bin/env python3
"""perf_audit: measure everything, derive findings, write findings.json.

Runs (python3 stdlib only; each step's failure is recorded in "errors" and
the audit goes on):
  1. build        make build/bench/o2p_bench (and build/otlp2parquet)
  2. benchmarks   o2p_bench: decode, end-to-end pipeline, HTTP ingest with
                  100 / 1,000 / 10,000-record requests (batch-size sensitivity)
  3. allocations  o2p_bench --alloc-report (counting allocator, src/core/mem.c)
  4. peak RSS     one e2e pipeline iteration in a child process (wait4 rusage);
                  the server's VmHWM comes from the HTTP benchmark
  5. CPU          perf record -e cpu-clock --call-graph dwarf on the e2e case (callgrind fallback)
                  -> hotspots by self share + flamegraph.svg in the audit dir
  6. heap         valgrind DHAT on one e2e iteration -> allocation hotspots
  7. binary size  strip + size -A + nm (scripts/bench_bloat.py)
then applies the RULES below to those measurements.  Nothing is estimated:
a value that could not be measured is null and produces a "not measured"
finding instead.  Schema: docs/performance.md "findings.json".

  scripts/perf_audit.py [--quick] [--out build/bench/audit/findings.json]
"""
import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_bloat  # noqa: E402
import bench_heap  # noqa: E402
import flamegraph  # noqa: E402
from bench_common import load_results  # noqa: E402

ROOT = os.path.dirname(HERE)
MIB = 1048576

# Spec §9 targets, and the thresholds of the other rules.  The rules are the
# documentation: docs/performance.md repeats them.
TARGET_PB_ROWS_S = 1_000_000        # protobuf logs -> Parquet, one core, in process
TARGET_JSON_ROWS_S = 300_000        # JSON logs -> Parquet, one core
TARGET_HTTP_ROWS_S = 500_000        # HTTP ingest, 1,000-record requests, 2 cores
TARGET_HTTP_P99_MS = 10.0
TARGET_ALLOCS_PER_RECORD = 0.0      # steady-state decode path
TARGET_STRIPPED_BYTES = 1 * MIB
TARGET_STARTUP_MS = 20.0
RSS_FACTOR, RSS_SLACK = 1.5, 32 * MIB  # peak RSS <= 1.5 x buffer + 32 MiB
HOTSPOT_SELF_PCT = 20.0             # one function above this share is worth attacking
ALLOC_SITE_PCT = 50.0               # one site allocating most bytes
SMALL_BATCH_RATIO = 0.5             # rows/s at 100-record requests vs 1,000
NOISE_CI_PCT = 5.0                  # CI half-width above this % of the median = noisy
AUDIT_BUFFER_BYTES = 256 * MIB      # batch.max_buffered_bytes given to the server

SEVERITY_RANK = {'critical': 0, 'high': 1, 'medium': 2, 'low': 3, 'info': 4}


def log(msg):
    print('perf_audit: ' + msg, flush=True)


class Audit:
    def __init__(self, args):
        self.a = args
        self.build = args.build
        self.out_dir = os.path.dirname(os.path.abspath(args.out))
        self.bench = os.path.join(self.build, 'bench', 'o2p_bench')
        self.server = os.path.join(self.build, 'otlp2parquet')
        self.errors = []
        self.steps = {}
        self.report = {}

    def step(self, name, fn):
        t0 = time.monotonic()
        try:
            fn()
            status = 'ok'
        except Exception as e:  # keep auditing; the failure is itself a finding
            status = 'failed'
            self.errors.append({'step': name, 'error': '%s: %s' % (type(e).__name__, e)})
            log('%s failed: %s' % (name, e))
        self.steps[name] = {'status': status, 'seconds': round(time.monotonic() - t0, 2)}

    def run(self, cmd, timeout, env=None, check=True):
        log('$ ' + ' '.join(cmd))
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
        if check and p.returncode != 0:
            raise RuntimeError('%s exited %d: %s' % (cmd[0], p.returncode, (p.stderr or p.stdout)[-600:]))
        return p

    # ------------------------------------------------------------ steps --

    def do_build(self):
        targets = [self.bench]
        if os.path.exists(os.path.join(ROOT, 'src/cli/main.c')):
            targets.append(self.server)
        if not self.a.no_build:
            self.run(['make', '-j2', 'BUILD=' + self.build] + targets, timeout=900)
        if not os.path.exists(self.bench):
            raise RuntimeError('%s was not built' % self.bench)

    def do_benchmarks(self):
        res_dir = os.path.join(self.out_dir, 'results')
        shutil.rmtree(res_dir, ignore_errors=True)
        if self.a.quick:
            filters = ['decode.logs', 'e2e.logs.protobuf.10k', 'e2e.logs.json.10k', 'http.ingest']
            args = ['--quick']
        else:
            filters = ['decode.', 'e2e.logs.protobuf.1m', 'e2e.logs.json.1m', 'e2e.logs.protobuf.10k',
                       'e2e.logs.json.10k', 'http.ingest']
            args = ['--samples', '15', '--max-secs', '6']
        env = dict(os.environ, O2P_BENCH_SERVER=self.server,
                   OTLP2PARQUET_BATCH_MAX_BUFFERED_BYTES=str(AUDIT_BUFFER_BYTES),
                   OTLP2PARQUET_LOG_LEVEL='warn')
        p = self.run([self.bench, '--out', res_dir] + args + filters, timeout=1200, env=env, check=False)
        sys.stdout.write(p.stdout)
        self.results = load_results(res_dir)
        if not self.results:
            raise RuntimeError('no benchmark results: ' + p.stderr[-600:])
        if p.returncode != 0:
            self.errors.append({'step': 'benchmarks', 'error': 'o2p_bench exited %d: %s'
                                % (p.returncode, (p.stderr or p.stdout)[-600:])})

    def do_alloc(self):
        path = os.path.join(self.out_dir, 'alloc_report.json')
        args = [self.bench, '--alloc-report', '--out-file', path] + (['--quick'] if self.a.quick else [])
        self.run(args, timeout=600)
        with open(path) as f:
            self.alloc = json.load(f)

    def do_rss(self):
        case = 'e2e.logs.protobuf.100k' if self.a.quick else 'e2e.logs.protobuf.1m'
        log('$ %s --run %s --iters 1  (peak RSS via wait4)' % (self.bench, case))
        p = subprocess.Popen([self.bench, '--run', case, '--iters', '1'], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        err = p.stderr.read().decode(errors='replace')
        p.stderr.close()
        if p.returncode != 0:
            raise RuntimeError('%s exited %d: %s' % (case, p.returncode, err[-400:]))
        self.rss = {'workload': case, 'peak_rss_bytes': ru.ru_maxrss * 1024,
                    'note': 'whole process: generated input requests + decoded columns + Parquet output'}

    def do_cpu(self):
        case = 'e2e.logs.protobuf.10k'
        secs = '2' if self.a.quick else '5'
        prof = os.path.join(self.out_dir, 'profile')
        os.makedirs(prof, exist_ok=True)
        stacks = None
        tool = None
        if shutil.which('perf'):
            data = os.path.join(prof, 'perf.data')
            p = self.run(['perf', 'record', '-e', 'cpu-clock', '-F', '499', '--call-graph', 'dwarf,16384', '-o', data, '--',
                          self.bench, '--run', case, '--secs', secs], timeout=120, check=False)
            if p.returncode == 0 and os.path.exists(data):
                s = self.run(['perf', 'script', '-i', data], timeout=300, check=False)
                stacks = flamegraph.fold_perf_script(s.stdout)
                tool = 'perf record -e cpu-clock --call-graph dwarf'
            else:
                self.errors.append({'step': 'cpu', 'error': 'perf record failed, using callgrind: '
                                    + p.stderr[-300:]})
        if not stacks:
            out = os.path.join(prof, 'callgrind.out')
            self.run(['valgrind', '--tool=callgrind', '--callgrind-out-file=' + out, self.bench, '--run', case,
                      '--iters', '1'], timeout=600)
            with open(out, errors='replace') as f:
                stacks = flamegraph.fold_callgrind(f.read())
            tool = 'valgrind callgrind (approximate stacks)'
        if not stacks:
            raise RuntimeError('the profiler recorded no samples')
        svg = os.path.join(self.out_dir, 'flamegraph.svg')
        with open(svg, 'w') as f:
            f.write(flamegraph.render_svg(stacks, 'perf_audit: %s (%s)' % (case, tool)))
        self.cpu = {
            'tool': tool, 'workload': case, 'samples': sum(stacks.values()), 'flamegraph': svg,
            'top': [{'symbol': sym, 'self_pct': round(pct, 2), 'samples': n}
                    for sym, pct, n in flamegraph.self_hotspots(stacks, 15)],
        }

    def do_heap(self):
        case = 'e2e.logs.protobuf.10k' if self.a.quick else 'e2e.logs.protobuf.100k'
        out = os.path.join(self.out_dir, 'dhat.out.json')
        self.run(['valgrind', '--tool=dhat', '--dhat-out-file=' + out, self.bench, '--run', case, '--iters', '1'],
                 timeout=900)
        s = bench_heap.summarize(out, 10)
        s['workload'] = case
        self.heap = s

    def do_size(self):
        """Output size vs DuckDB's zstd Parquet of the same rows (node + DuckDB)."""
        tool = os.path.join(ROOT, 'tests', 'tools', 'size_vs_duckdb.mjs')
        if not shutil.which('node') or not os.path.isdir(os.path.join(ROOT, 'tests', 'node_modules', '@duckdb')):
            raise RuntimeError('node or the pinned npm packages are missing (run scripts/setup.sh)')
        records = 20000 if self.a.quick else 200000
        p = self.run(['node', tool, '--bin', self.server, '--records', str(records)], timeout=600)
        self.size = json.loads(p.stdout.strip().splitlines()[-1])

    def do_bloat(self):
        if not os.path.exists(self.server):
            raise RuntimeError('%s does not exist' % self.server)
        with open(os.devnull, 'w') as devnull:
            old = sys.stdout
            sys.stdout = devnull
            try:
                argv = sys.argv
                path = os.path.join(self.out_dir, 'bloat.json')
                sys.argv = ['bench_bloat', '--binary', self.server, '--objects',
                            os.path.join(self.build, 'obj', 'src'), '--json', path]
                rc = bench_bloat.main()
            finally:
                sys.argv = argv
                sys.stdout = old
        if rc != 0:
            raise RuntimeError('bench_bloat failed')
        with open(path) as f:
            b = json.load(f)
        self.bloat = {'binary': b['binary'], 'file_bytes': b['file_bytes'], 'stripped_bytes': b['stripped_bytes'],
                      'sections': b['sections'][:12], 'top_objects': b['objects'][:10],
                      'top_symbols': b['top_symbols'][:10]}

    # ------------------------------------------------------- assembling --

    def result(self, name):
        r = getattr(self, 'results', {}).get(name)
        return r if r and r.get('status') == 'ok' else None

    def assemble(self):
        rep = self.report
        results = getattr(self, 'results', {})
        env = next((r.get('env') for r in results.values() if r.get('env')), None)
        rep['environment'] = env or {'note': 'benchmarks did not run'}
        rep['environment']['python'] = platform.python_version()
        rep['environment']['perf_event_paranoid'] = read_first('/proc/sys/kernel/perf_event_paranoid')

        rep['throughput'] = [
            {'name': n, 'suite': r['suite'], 'rows_per_sec': r['throughput']['rows_per_sec'],
             'mb_per_sec': r['throughput']['mb_per_sec'], 'median_s': r['stats']['median'],
             'ci95_s': [r['stats']['ci95_low'], r['stats']['ci95_high']], 'samples': r['stats']['n'],
             'params': r.get('params', '')}
            for n, r in sorted(results.items()) if r.get('status') == 'ok']

        http = {}
        for size in (100, 1000, 10000):
            r = self.result('http.ingest.logs.protobuf.r%d' % size)
            if r:
                http[size] = r
        h = http.get(1000)
        skipped = [r.get('reason') for n, r in results.items() if n.startswith('http.') and r.get('status') != 'ok']
        rep['latency_ms'] = dict(h['extra']['latency_ms'], records_per_request=1000,
                                 connections=h['extra']['connections']) if h else None
        rep['http'] = {
            'measured': bool(h),
            'skipped_reason': skipped[0] if skipped and not h else None,
            'rows_per_sec': h['throughput']['rows_per_sec'] if h else None,
            'server_startup_ms': h['extra']['server_startup_ms'] if h else None,
            'server_peak_rss_bytes': max(r['extra']['server_peak_rss_bytes'] for r in http.values()) if http else None,
            'server_cpu_us_per_request': h['extra']['server_cpu_us_per_request'] if h else None,
            'rejected_429_503': sum(r['extra']['status_429_503'] for r in http.values()) if http else None,
            'configured_buffer_bytes': AUDIT_BUFFER_BYTES,
        }

        alloc = getattr(self, 'alloc', None)
        if alloc:
            cfgs = alloc['configs']
            std = [c for c in cfgs if c['signal'] == 'logs' and c['format'] == 'protobuf'
                   and c['records_per_request'] == 1000]
            worst = max(cfgs, key=lambda c: c['allocations_per_record'])
            rep['allocations'] = {
                'source': 'counting allocator (mem_get_stats) around otlp_decode, steady state',
                'per_request': std[0]['allocations_per_request'] if std else None,
                'bytes_per_request': std[0]['bytes_per_request'] if std else None,
                'per_record': std[0]['allocations_per_record'] if std else None,
                'peak_heap_bytes': std[0]['peak_heap_bytes'] if std else None,
                'reference_config': 'logs/protobuf/1000 records',
                'max_per_record': worst['allocations_per_record'],
                'max_per_record_config': '%s/%s/%d' % (worst['signal'], worst['format'],
                                                       worst['records_per_request']),
                'encode_allocations_per_file': std[0].get('encode', {}).get('allocations_per_file') if std else None,
                'configs': cfgs,
            }
        else:
            rep['allocations'] = None

        rep['peak_rss'] = {'e2e_process': getattr(self, 'rss', None),
                           'server_bytes': rep['http']['server_peak_rss_bytes']}
        rep['binary_size'] = getattr(self, 'bloat', None)
        size = getattr(self, 'size', None)
        rep['output_size'] = dict(size, columns=size['columns'][:10]) if size else None
        rep['cpu_hotspots'] = getattr(self, 'cpu', None)
        rep['allocation_hotspots'] = getattr(self, 'heap', None)

        sens = []
        for size in (100, 1000, 10000):
            row = {'records_per_request': size}
            r = http.get(size)
            if r:
                row.update(http_rows_per_sec=r['throughput']['rows_per_sec'],
                           http_p50_ms=r['extra']['latency_ms']['p50'], http_p99_ms=r['extra']['latency_ms']['p99'])
            if alloc:
                c = [c for c in alloc['configs'] if c['signal'] == 'logs' and c['format'] == 'protobuf'
                     and c['records_per_request'] == size]
                if c:
                    row.update(decode_allocations_per_request=c[0]['allocations_per_request'],
                               decode_allocations_per_record=c[0]['allocations_per_record'],
                               decode_bytes_per_request=c[0]['bytes_per_request'])
            sens.append(row)
        rep['batch_size_sensitivity'] = sens
        self.derive()

    # ------------------------------------------------------------ rules --

    def derive(self):
        rep = self.report
        findings = []
        targets = []

        def finding(fid, severity, rule, measured, threshold, message, action):
            findings.append({'id': fid, 'severity': severity, 'rule': rule, 'measured': measured,
                             'threshold': threshold, 'message': message, 'action': action})

        def target(tid, desc, measured, threshold, ok_fn):
            met = None if measured is None else bool(ok_fn(measured, threshold))
            targets.append({'id': tid, 'description': desc, 'measured': measured, 'threshold': threshold,
                            'met': met})
            return met

        cpu = rep.get('cpu_hotspots')
        top_own = next((t for t in (cpu or {}).get('top', [])), None)
        hot_hint = ('the top self hotspot is %s (%.1f %% of CPU samples)' % (top_own['symbol'], top_own['self_pct'])
                    if top_own else 'run make flamegraph to find the hotspot')

        def best_e2e(fmt):
            cands = [t for t in rep['throughput'] if t['name'].startswith('e2e.logs.%s.' % fmt)]
            # The largest workload measured is the one closest to steady state.
            order = {'1m': 3, '100k': 2, '10k': 1}
            cands.sort(key=lambda t: -order.get(t['name'].rsplit('.', 1)[-1], 0))
            return cands[0] if cands else None

        for fmt, thr, tid in (('protobuf', TARGET_PB_ROWS_S, 'e2e_protobuf_rows_per_sec'),
                              ('json', TARGET_JSON_ROWS_S, 'e2e_json_rows_per_sec')):
            t = best_e2e(fmt)
            met = target(tid, '%s logs -> Parquet (zstd), one core, in process (%s)' % (fmt, t['name'] if t else '-'),
                         t['rows_per_sec'] if t else None, thr, lambda m, x: m >= x)
            if met is False:
                finding(tid, 'high', 'e2e %s throughput < %d rows/s' % (fmt, thr), t['rows_per_sec'], thr,
                        '%s measured %.0f rows/s, %.0f %% of the target' % (t['name'], t['rows_per_sec'],
                                                                           100 * t['rows_per_sec'] / thr),
                        'Make the in-process pipeline faster: %s; attack it, then verify with make bench-compare '
                        'FILTER=e2e.' % hot_hint)
            elif met is None:
                finding(tid, 'info', 'measurement missing', None, thr, 'no e2e %s result' % fmt,
                        'Check the benchmarks step in "errors".')

        http = rep['http']
        lat = rep['latency_ms']
        met = target('http_rows_per_sec', 'HTTP ingest, 1,000-record protobuf requests, loopback',
                     http['rows_per_sec'], TARGET_HTTP_ROWS_S, lambda m, x: m >= x)
        if met is False:
            finding('http_rows_per_sec', 'high', 'HTTP rows/s < %d' % TARGET_HTTP_ROWS_S, http['rows_per_sec'],
                    TARGET_HTTP_ROWS_S, 'HTTP ingest measured %.0f rows/s (server CPU %.0f µs per 1,000-record '
                    'request)' % (http['rows_per_sec'], http['server_cpu_us_per_request'] or -1),
                    'Reduce server CPU per request (decode + append; see the decode benchmarks and the '
                    'flame graph), and check that the flusher does not starve request threads on 2 cores.')
        elif met is None:
            finding('http_not_measured', 'info', 'HTTP ingest not measured', None, None,
                    http['skipped_reason'] or 'the HTTP benchmark did not produce a result',
                    'Build the server (make) so perf_audit can start build/otlp2parquet.')
        met = target('http_p99_ms', 'HTTP p99 request latency, 1,000-record requests', lat['p99'] if lat else None,
                     TARGET_HTTP_P99_MS, lambda m, x: m <= x)
        if met is False:
            finding('http_p99_ms', 'high', 'p99 > %.0f ms' % TARGET_HTTP_P99_MS, lat['p99'], TARGET_HTTP_P99_MS,
                    'p99 %.2f ms (p50 %.2f ms) over %d requests on %d connections' % (
                        lat['p99'], lat['p50'], lat['requests'], lat['connections']),
                    'Find what stalls requests: lock hold time in batch_submit while a flush runs, or '
                    'allocation growth on the request path; compare p50 vs p99 across batch sizes.')
        if http.get('rejected_429_503'):
            finding('http_rejections', 'medium', '429/503 answers during the benchmark > 0',
                    http['rejected_429_503'], 0, 'the server refused %d requests as busy' % http['rejected_429_503'],
                    'The buffer filled faster than it flushed: look at flush throughput (encode suite) '
                    'or the memory budget.')
        met = target('server_startup_ms', 'server start-up (exec -> first /health 200)',
                     http['server_startup_ms'], TARGET_STARTUP_MS, lambda m, x: m <= x)
        if met is False:
            finding('server_startup_ms', 'medium', 'start-up > %.0f ms' % TARGET_STARTUP_MS, http['server_startup_ms'],
                    TARGET_STARTUP_MS, 'start-up took %.1f ms' % http['server_startup_ms'],
                    'Profile start-up (perf record on serve until /health); defer storage checks.')

        limit = RSS_FACTOR * AUDIT_BUFFER_BYTES + RSS_SLACK
        met = target('server_peak_rss_bytes', 'server peak RSS <= 1.5 x buffer (%d MiB) + 32 MiB'
                     % (AUDIT_BUFFER_BYTES // MIB), http['server_peak_rss_bytes'], limit, lambda m, x: m <= x)
        if met is False:
            finding('server_peak_rss', 'high', 'peak RSS > 1.5 x buffer + 32 MiB', http['server_peak_rss_bytes'], limit,
                    'server VmHWM %.1f MiB' % (http['server_peak_rss_bytes'] / MIB),
                    'Account all buffered memory against the budget (make heap-profile on the server).')

        al = rep['allocations']
        met = target('allocations_per_record', 'steady-state decode allocations per record (all signals, formats, '
                     'sizes: the worst)', al['max_per_record'] if al else None, TARGET_ALLOCS_PER_RECORD,
                     lambda m, x: m <= x)
        if met is False:
            heap = rep.get('allocation_hotspots') or {}
            site = (heap.get('top_sites_by_blocks') or [{}])[0].get('site', 'see make heap-profile')
            finding('allocations_per_record', 'medium', 'allocations per record > 0 in steady state',
                    al['max_per_record'], 0, 'worst: %s at %.4f allocations/record' % (
                        al['max_per_record_config'], al['max_per_record']),
                    'Reuse the buffers that grow per request (arena/reserve up front); the most frequent '
                    'allocation site in the DHAT profile is %s.' % site)

        osz = rep.get('output_size')
        met = target('output_size_vs_duckdb', 'Parquet bytes / DuckDB zstd Parquet bytes of the same rows',
                     round(osz['ratio'], 4) if osz else None, 1.0, lambda m, x: m <= x)
        if met is False:
            worst = max(osz['columns'], key=lambda c: c['ours'] - c['duckdb'])
            finding('output_size', 'medium', 'files larger than DuckDB\'s zstd Parquet of the same rows',
                    osz['ratio'], 1.0, 'ours %d bytes, DuckDB %d bytes; largest excess in column %s'
                    % (osz['ours_bytes'], osz['duckdb_bytes'], worst['column']),
                    'Look at the encodings and page sizes of that column (parquet_metadata) and compare '
                    'with DuckDB\'s choices.')

        b = rep.get('binary_size')
        met = target('stripped_binary_bytes', 'stripped binary size', b['stripped_bytes'] if b else None,
                     TARGET_STRIPPED_BYTES, lambda m, x: m <= x)
        if met is False:
            top = b['top_objects'][0] if b['top_objects'] else {'object': '?', 'total': 0}
            finding('binary_size', 'medium', 'stripped binary > 1 MiB', b['stripped_bytes'], TARGET_STRIPPED_BYTES,
                    'stripped %.0f KiB' % (b['stripped_bytes'] / 1024),
                    'Shrink the largest object (%s, %d bytes): make bloat.' % (top['object'], top['total']))

        for t in (cpu or {}).get('top', []):
            if t['self_pct'] > HOTSPOT_SELF_PCT:
                lib = t['symbol'].startswith('[')
                finding('cpu_hotspot:' + t['symbol'], 'medium', 'one function > %.0f %% self CPU' % HOTSPOT_SELF_PCT,
                        t['self_pct'], HOTSPOT_SELF_PCT, '%s takes %.1f %% of CPU samples in %s' % (
                            t['symbol'], t['self_pct'], cpu['workload']),
                        ('Time is inside a shared library: reduce the work handed to it (less data to '
                         'compress/copy, a cheaper level, or skip pages that do not compress).' if lib else
                         'Optimize %s (see flamegraph.svg for its callers), then make bench-compare.' % t['symbol']))

        heap = rep.get('allocation_hotspots')
        if heap:
            for s in heap['top_sites'][:3]:
                if s['pct_bytes'] > ALLOC_SITE_PCT:
                    finding('alloc_hotspot:' + s['site'], 'low', 'one site > %.0f %% of bytes allocated'
                            % ALLOC_SITE_PCT, s['pct_bytes'], ALLOC_SITE_PCT,
                            '%s allocates %.1f %% of all bytes (%d blocks)' % (s['site'], s['pct_bytes'], s['blocks']),
                            'Size this allocation once (reserve from the known row count) or reuse it across '
                            'iterations.')

        sens = {row['records_per_request']: row for row in rep['batch_size_sensitivity']}
        small, std = sens.get(100, {}), sens.get(1000, {})
        if small.get('http_rows_per_sec') and std.get('http_rows_per_sec'):
            ratio = small['http_rows_per_sec'] / std['http_rows_per_sec']
            if ratio < SMALL_BATCH_RATIO:
                finding('small_batch_overhead', 'medium', 'rows/s at 100-record requests < %.0f %% of 1,000-record'
                        % (100 * SMALL_BATCH_RATIO), ratio, SMALL_BATCH_RATIO,
                        '100-record requests reach %.0f %% of the 1,000-record throughput' % (100 * ratio),
                        'Per-request overhead dominates small batches: profile the server under '
                        '100-record load (HTTP parsing, response encoding, per-request setup).')

        for t in rep['throughput']:
            lo, hi = t['ci95_s']
            if t['median_s'] and lo is not None and hi is not None:
                half = 100 * (hi - lo) / 2 / t['median_s']
                if half > NOISE_CI_PCT:
                    finding('noisy:' + t['name'], 'info', '95 %% CI half-width > %.0f %% of the median' % NOISE_CI_PCT,
                            round(half, 2), NOISE_CI_PCT, '%s: ±%.1f %% (%d samples)' % (t['name'], half, t['samples']),
                            'Results this noisy cannot show small changes: run on an idle machine, pin with '
                            'taskset -c 1, or raise --samples.')
        for e in self.errors:
            finding('step_failed:' + e['step'], 'info', 'an audit step failed', None, None, e['error'][:300],
                    'Fix the failing step so its measurements are part of the audit.')

        findings.sort(key=lambda f: (SEVERITY_RANK[f['severity']], -gap(f)))
        rep['targets'] = targets
        rep['findings'] = findings
        rep['next_actions'] = [{'priority': i + 1, 'severity': f['severity'], 'finding': f['id'],
                                'action': f['action']} for i, f in enumerate(f for f in findings
                                                                            if f['severity'] != 'info' or
                                                                            f['id'].startswith(('http_not', 'step')))]


def gap(f):
    """How far a measurement misses its threshold (for ordering within a severity)."""
    m, t = f.get('measured'), f.get('threshold')
    if not isinstance(m, (int, float)) or not isinstance(t, (int, float)) or t == 0 or m == 0:
        return 0
    return max(m / t, t / m)


def read_first(path):
    try:
        with open(path) as f:
            return f.readline().strip()
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='short run (< 3 min on 2 cores)')
    ap.add_argument('--out', default='build/bench/audit/findings.json')
    ap.add_argument('--build', default='build')
    ap.add_argument('--no-build', action='store_true', help='use the existing binaries')
    a = ap.parse_args()
    os.chdir(ROOT)
    t0 = time.monotonic()
    au = Audit(a)
    os.makedirs(au.out_dir, exist_ok=True)
    au.step('build', au.do_build)
    if au.steps['build']['status'] == 'ok':
        au.step('benchmarks', au.do_benchmarks)
        au.step('allocations', au.do_alloc)
        au.step('peak_rss', au.do_rss)
        au.step('cpu_hotspots', au.do_cpu)
        au.step('heap_profile', au.do_heap)
        au.step('output_size', au.do_size)
    au.step('binary_size', au.do_bloat)
    au.assemble()
    rep = dict(schema='o2p-perf-audit/1', mode='quick' if a.quick else 'full',
               generated_at=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
               duration_secs=round(time.monotonic() - t0, 1), steps=au.steps, errors=au.errors, **au.report)
    with open(a.out, 'w') as f:
        json.dump(rep, f, indent=1)
    log('wrote %s in %.0f s' % (a.out, rep['duration_secs']))
    print('\ntargets:')
    for t in rep['targets']:
        state = 'n/a ' if t['met'] is None else 'MET ' if t['met'] else 'MISS'
        print('  [%s] %-28s measured %-14s threshold %s' % (state, t['id'], fmt(t['measured']), fmt(t['threshold'])))
    print('\nnext actions:')
    for n in rep['next_actions'][:10]:
        print('  %d. [%s] %s: %s' % (n['priority'], n['severity'], n['finding'], n['action']))
    return 0


def fmt(v):
    if v is None:
        return 'n/a'
    if isinstance(v, float):
        return '%.4g' % v
    return str(v)


if __name__ == '__main__':
    sys.exit(main())
