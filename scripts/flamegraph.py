#!/usr/bin/env python3
"""flamegraph: folded stacks -> a self-contained flame graph SVG (stdlib only).

Inputs (one of):
  --perf-script FILE   text of `perf script` (perf record -g): one block per
                       sample, a header line then one frame per line, leaf
                       first; blank line between samples
  --callgrind FILE     a callgrind.out file (valgrind --tool=callgrind)
  --folded FILE        already folded stacks: "root;child;leaf COUNT" lines

Callgrind records no stacks, only each function's self cost and the
inclusive cost of every caller -> callee arc.  The conversion is therefore an
approximation, stated here and in docs/performance.md: starting from the
functions nobody calls, a path's cost is split between the function's self
cost and its callees in proportion to their share of the function's
inclusive cost - as if every caller used the function the same way.  A
function already on the path (recursion) is not expanded again, and paths
below 0.01 % of the total are dropped.

Output: --out flamegraph.svg (root at the bottom, width = share of samples,
hover for the count and percentage), --folded-out to keep the folded stacks,
and --top N prints the N hottest functions by self share (leaf frames).
"""
import argparse
import collections
import html
import re
import sys
import zlib


# ------------------------------------------------------------ folding --

_OFFSET = re.compile(r'\+0x[0-9a-f]+$')


def fold_perf_script(text):
    """perf script text -> Counter of 'root;...;leaf' stacks."""
    stacks = collections.Counter()
    frames = []
    header = None

    def flush():
        if header is None:
            return
        chain = list(reversed(frames)) or ['[%s]' % header.split()[0]]
        stacks[';'.join(chain)] += 1

    for line in text.splitlines():
        if not line.strip():
            flush()
            frames, header = [], None
            continue
        if not line[0].isspace():
            flush()
            frames, header = [], line
            continue
        parts = line.strip().split(None, 1)
        if len(parts) < 2:
            continue
        sym = parts[1]
        dso = ''
        m = re.match(r'^(.*) \(([^()]*)\)$', sym)
        if m:
            sym, dso = m.group(1), m.group(2)
        sym = _OFFSET.sub('', sym.strip())
        if sym in ('[unknown]', ''):
            sym = '[%s]' % (dso.rsplit('/', 1)[-1] if dso else 'unknown')
        frames.append(sym.replace(';', ':'))
    flush()
    return stacks


def fold_callgrind(text, min_fraction=1e-4):
    """callgrind.out text -> Counter of approximate stacks (see module doc)."""
    # Compressed "(id) name" -> a unique label.  Two ids may carry the same
    # name (e.g. "(below main)" in two objects); they are distinct functions,
    # so the label gets a hidden "\x00id" suffix, stripped when printing.
    names = {}
    used = set()

    def name_of(kind, spec):
        spec = spec.strip()
        m = re.match(r'^\((\d+)\)(?:\s+(.*))?$', spec)
        if m:
            key = (kind, m.group(1))
            if m.group(2) and key not in names:
                label = m.group(2)
                if label in used:
                    label = '%s\x00%s' % (label, m.group(1))
                used.add(label)
                names[key] = label
            return names.get(key, spec)
        return spec

    self_cost = collections.Counter()
    arcs = collections.defaultdict(collections.Counter)
    fn = None
    cfn = None
    pending_call = False
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith('fn='):
            fn = name_of('fn', line[3:])
            pending_call = False
            continue
        if line.startswith('cfn='):
            cfn = name_of('fn', line[4:])
            continue
        if line.startswith('calls='):
            pending_call = True
            continue
        c0 = line[0]
        if c0.isdigit() or c0 in '+-*':
            parts = line.split()
            if len(parts) < 2 or fn is None:
                continue
            try:
                cost = int(parts[1])
            except ValueError:
                continue
            if pending_call:
                if cfn is not None:
                    arcs[fn][cfn] += cost
                pending_call = False
            else:
                self_cost[fn] += cost
    funcs = set(self_cost) | set(arcs)
    inclusive = {f: self_cost[f] + sum(arcs[f].values()) for f in funcs}
    called = set(c for f in arcs for c in arcs[f] if c != f)
    roots = [f for f in funcs if f not in called]
    total = sum(self_cost.values())
    stacks = collections.Counter()
    if total == 0:
        return stacks
    floor = total * min_fraction

    def walk(f, path, cost, depth):
        inc = inclusive.get(f, 0)
        if inc <= 0 or cost < floor or depth > 200:
            return
        path = path + [f]
        key = ';'.join(p.split('\x00')[0].replace(';', ':') for p in path)
        share = cost / inc
        if self_cost[f]:
            stacks[key] += self_cost[f] * share
        for g, c in arcs[f].items():
            if g in path:  # recursion: count it as this frame's own cost
                stacks[key] += c * share
                continue
            walk(g, path, c * share, depth + 1)

    for r in roots:
        walk(r, [], inclusive[r], 0)
    return collections.Counter({k: int(round(v)) for k, v in stacks.items() if round(v) > 0})


def self_hotspots(stacks, top=20):
    """Leaf frames by share of all samples: [(symbol, self_pct, samples)]."""
    total = sum(stacks.values())
    leaf = collections.Counter()
    for k, v in stacks.items():
        leaf[k.rsplit(';', 1)[-1]] += v
    return [(s, 100.0 * v / total, v) for s, v in leaf.most_common(top)] if total else []


# ---------------------------------------------------------------- SVG --

def _color(name):
    h = zlib.crc32(name.encode())
    if name.startswith('['):
        return 'rgb(%d,%d,%d)' % (150 + h % 40, 150 + h % 40, 160 + h % 40)
    return 'rgb(%d,%d,%d)' % (205 + h % 50, 80 + (h >> 8) % 120, 30 + (h >> 16) % 50)


def render_svg(stacks, title, width=1200, frame_h=17, min_px=0.3):
    tree = {'n': 0, 'c': {}}
    for stack, count in stacks.items():
        node = tree
        node['n'] += count
        for f in stack.split(';'):
            node = node['c'].setdefault(f, {'n': 0, 'c': {}})
            node['n'] += count
    total = tree['n'] or 1

    def depth(node):
        return 1 + max((depth(c) for c in node['c'].values()), default=0)
    levels = depth(tree)
    pad_top, pad_bottom = 34, 10
    height = pad_top + levels * frame_h + pad_bottom
    scale = (width - 20) / total
    rects = []

    def emit(name, node, x, level):
        w = node['n'] * scale
        if w < min_px:
            return
        y = height - pad_bottom - (level + 1) * frame_h
        pct = 100.0 * node['n'] / total
        label = html.escape(name)
        text = ''
        chars = int((w - 6) / 6.5)
        if chars >= 3:
            shown = name if len(name) <= chars else name[:chars - 2] + '..'
            text = '<text x="%.1f" y="%.1f">%s</text>' % (x + 3, y + frame_h - 5, html.escape(shown))
        rects.append('<g><title>%s (%d samples, %.2f%%)</title><rect x="%.1f" y="%.1f" width="%.1f" '
                     'height="%d" fill="%s" rx="2"/>%s</g>'
                     % (label, node['n'], pct, x, y, w, frame_h - 1, _color(name), text))
        cx = x
        for cname, child in sorted(node['c'].items()):
            emit(cname, child, cx, level + 1)
            cx += child['n'] * scale

    x = 10.0
    for name, child in sorted(tree['c'].items()):
        emit(name, child, x, 0)
        x += child['n'] * scale
    return ('<?xml version="1.0" standalone="no"?>\n'
            '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'
            '<style>text{font:11px monospace;fill:#000;pointer-events:none}</style>'
            '<rect width="100%%" height="100%%" fill="#fdfdf6"/>'
            '<text x="10" y="20" style="font:bold 15px sans-serif">%s</text>'
            '<text x="%d" y="20" text-anchor="end" style="font:11px sans-serif">%d samples; '
            'width = share of samples, hover a frame for details</text>%s</svg>\n'
            % (width, height, width, height, html.escape(title), width - 10, total, ''.join(rects)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument('--perf-script')
    g.add_argument('--callgrind')
    g.add_argument('--folded')
    ap.add_argument('--out')
    ap.add_argument('--folded-out')
    ap.add_argument('--title', default='otlp2parquet CPU flame graph')
    ap.add_argument('--top', type=int, default=0)
    a = ap.parse_args()
    if a.perf_script:
        with open(a.perf_script, errors='replace') as f:
            stacks = fold_perf_script(f.read())
    elif a.callgrind:
        with open(a.callgrind, errors='replace') as f:
            stacks = fold_callgrind(f.read())
    else:
        stacks = collections.Counter()
        with open(a.folded) as f:
            for line in f:
                k, _, v = line.rstrip('\n').rpartition(' ')
                if k and v.isdigit():
                    stacks[k] += int(v)
    if not stacks:
        print('flamegraph: no samples in the input', file=sys.stderr)
        return 1
    if a.folded_out:
        with open(a.folded_out, 'w') as f:
            for k, v in stacks.most_common():
                f.write('%s %d\n' % (k, v))
    if a.out:
        with open(a.out, 'w') as f:
            f.write(render_svg(stacks, a.title))
        print('flamegraph: %d samples, %d distinct stacks -> %s' % (sum(stacks.values()), len(stacks), a.out))
    if a.top:
        print('%-60s %8s' % ('hottest functions (self)', 'self %'))
        for sym, pct, _ in self_hotspots(stacks, a.top):
            print('%-60s %7.2f%%' % (sym[:60], pct))
    return 0


if __name__ == '__main__':
    sys.exit(main())
