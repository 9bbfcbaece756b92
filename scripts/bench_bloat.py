#!/usr/bin/env python3
"""bench_bloat: where the binary's bytes go (`make bloat`).

Reports, for the server binary (default build/otlp2parquet):
  * file size and stripped size (spec §9 target: stripped <= 1 MiB),
  * size by section (`size -A`),
  * size by object file: text + data + bss of every build/obj/src/**/*.o
    (`size` Berkeley format), i.e. what each module costs before linking,
  * the largest symbols (`nm --size-sort -S`).
Prints a readable report and writes JSON (--json) for perf_audit.py.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def sections(binary):
    out = []
    for line in run(['size', '-A', binary]).splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 2 and parts[0] != 'Total' and parts[1].isdigit():
            out.append({'section': parts[0], 'bytes': int(parts[1])})
    return sorted(out, key=lambda s: -s['bytes'])


def objects(obj_root):
    files = []
    for d, _, fns in os.walk(obj_root):
        files += [os.path.join(d, f) for f in fns if f.endswith('.o')]
    if not files:
        return []
    out = []
    for line in run(['size'] + sorted(files)).splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 6:
            text, data, bss = int(parts[0]), int(parts[1]), int(parts[2])
            out.append({'object': os.path.relpath(parts[5], obj_root), 'text': text, 'data': data,
                        'bss': bss, 'total': text + data})
    return sorted(out, key=lambda o: -o['total'])


def symbols(binary, top):
    out = []
    for line in run(['nm', '--size-sort', '-S', '--defined-only', binary]).splitlines():
        parts = line.split()
        if len(parts) >= 4:
            out.append({'symbol': parts[3], 'bytes': int(parts[1], 16), 'type': parts[2]})
    return sorted(out, key=lambda s: -s['bytes'])[:top]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--binary', default='build/otlp2parquet')
    ap.add_argument('--objects', default='build/obj/src')
    ap.add_argument('--top', type=int, default=20)
    ap.add_argument('--json')
    a = ap.parse_args()
    if not os.path.exists(a.binary):
        print('bench_bloat: %s does not exist (build it with make)' % a.binary, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as td:
        stripped = os.path.join(td, 'stripped')
        run(['strip', '-o', stripped, a.binary])
        stripped_size = os.path.getsize(stripped)
    rep = {
        'binary': a.binary,
        'file_bytes': os.path.getsize(a.binary),
        'stripped_bytes': stripped_size,
        'sections': sections(a.binary),
        'objects': objects(a.objects),
        'top_symbols': symbols(a.binary, a.top),
    }
    print('%s: %d bytes, %d stripped (%.1f KiB)' % (a.binary, rep['file_bytes'], stripped_size,
                                                     stripped_size / 1024))
    print('\nby section (size -A):')
    for s in rep['sections']:
        print('  %-24s %10d' % (s['section'], s['bytes']))
    print('\nby object file (text + data; build/obj/src):')
    total = sum(o['total'] for o in rep['objects']) or 1
    for o in rep['objects']:
        print('  %-40s %9d  %5.1f%%  (text %d, data %d)' % (o['object'], o['total'], 100.0 * o['total'] / total,
                                                          o['text'], o['data']))
    print('\ntop %d symbols (nm --size-sort):' % a.top)
    for s in rep['top_symbols']:
        print('  %-50s %9d  %s' % (s['symbol'][:50], s['bytes'], s['type']))
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, 'w') as f:
            json.dump(rep, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
