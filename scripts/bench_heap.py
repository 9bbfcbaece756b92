#!/usr/bin/env python3
"""bench_heap: summary of a valgrind DHAT heap profile (`make heap-profile`).

Reads DHAT's JSON output (dhat.out.*; also viewable in DHAT's own viewer,
dh_view.html shipped with valgrind) and prints: total blocks allocated and
bytes, the peak (bytes live at the global maximum, t-gmax), and the top
allocation sites by bytes allocated.  A site is named by its first frame
outside the allocation wrappers (malloc/realloc, mem_*, buf_grow...), with
the next frames as context, because "mem_alloc" as a hotspot says nothing.
Allocations made while the benchmark generates its synthetic input
(any stack through gen_request) are not the product's: they are counted
apart as "harness_blocks/bytes" and left out of the totals and sites.
Writes JSON with --json for perf_audit.py.
"""
import argparse
import json
import os
import re
import sys

WRAPPERS = re.compile(r'\b(malloc|calloc|realloc|free|mem_alloc|mem_calloc|mem_realloc|mem_strdup|'
                      r'mem_strndup|buf_grow|buf_reserve|buf_append|buf_push_byte|buf_extend|'
                      r'operator new)\b')


HARNESS = re.compile(r'\bgen_request\b')


def frame_name(s):
    # DHAT frames look like "0x4845: mem_alloc (mem.c:45)" or "[root]".
    m = re.match(r'^0x[0-9A-Fa-f]+: (.*)$', s)
    return m.group(1) if m else s


def summarize(path, top):
    with open(path) as f:
        d = json.load(f)
    ftbl = d['ftbl']
    sites = []
    harness_blocks = harness_bytes = 0
    for pp in d['pps']:
        frames = [frame_name(ftbl[i]) for i in pp['fs']]
        if any(HARNESS.search(fr) for fr in frames):
            harness_blocks += pp['tbk']
            harness_bytes += pp['tb']
            continue
        first = next((k for k, fr in enumerate(frames) if not WRAPPERS.search(fr)), 0)
        sites.append({
            'site': frames[first] if frames else '?',
            'stack': frames[first:first + 4],
            'blocks': pp['tbk'], 'bytes': pp['tb'],
            'bytes_at_peak': pp.get('gb', 0), 'max_live_bytes': pp.get('mb', 0),
        })
    merged = {}
    for s in sites:  # several call paths may end in the same site
        m = merged.setdefault(s['site'], {'site': s['site'], 'stack': s['stack'], 'blocks': 0, 'bytes': 0,
                                          'bytes_at_peak': 0})
        m['blocks'] += s['blocks']
        m['bytes'] += s['bytes']
        m['bytes_at_peak'] += s['bytes_at_peak']
    total_blocks = sum(s['blocks'] for s in sites)
    total_bytes = sum(s['bytes'] for s in sites)
    by_bytes = sorted(merged.values(), key=lambda s: -s['bytes'])[:top]
    for s in by_bytes:
        s['pct_bytes'] = 100.0 * s['bytes'] / total_bytes if total_bytes else 0
        s['pct_blocks'] = 100.0 * s['blocks'] / total_blocks if total_blocks else 0
    return {
        'tool': 'valgrind-dhat', 'file': path, 'command': d.get('cmd', ''),
        'total_blocks': total_blocks, 'total_bytes': total_bytes,
        'peak_bytes': sum(s['bytes_at_peak'] for s in sites),
        'harness_blocks': harness_blocks, 'harness_bytes': harness_bytes,
        'top_sites': by_bytes,
        'top_sites_by_blocks': sorted(merged.values(), key=lambda s: -s['blocks'])[:top],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('dhat_json')
    ap.add_argument('--top', type=int, default=10)
    ap.add_argument('--json')
    a = ap.parse_args()
    if not os.path.exists(a.dhat_json):
        print('bench_heap: %s does not exist' % a.dhat_json, file=sys.stderr)
        return 1
    s = summarize(a.dhat_json, a.top)
    print('DHAT profile of: %s' % s['command'])
    print('total: %d blocks, %d bytes allocated; peak (t-gmax) %d bytes live' % (
        s['total_blocks'], s['total_bytes'], s['peak_bytes']))
    print('(excluded: %d blocks, %d bytes of benchmark input generation)' % (
        s['harness_blocks'], s['harness_bytes']))
    print('\ntop allocation sites by bytes:')
    for t in s['top_sites']:
        print('  %6.1f%% bytes %12d  %8d blocks  %s' % (t['pct_bytes'], t['bytes'], t['blocks'], t['site']))
        for fr in t['stack'][1:]:
            print('%40s<- %s' % ('', fr))
    print('\ntop allocation sites by blocks:')
    for t in s['top_sites_by_blocks']:
        print('  %8d blocks %12d bytes  %s' % (t['blocks'], t['bytes'], t['site']))
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, 'w') as f:
            json.dump(s, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
