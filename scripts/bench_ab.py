#!/usr/bin/env python3
"""bench_ab: an A/B comparison that survives a noisy machine.

On shared virtual machines the speed of the whole machine drifts by tens of
percent over minutes, so a baseline saved at one time and a run made later
can differ by more than any change being measured.  This script builds the
benchmark harness at a base git revision (in a worktree under
build/bench/ab/), then runs the base and the current harness in alternating
short rounds (A B, B A, A B, ...), so both see the same drift, merges each
side's samples, and compares them with the usual significance test
(bench_compare.py: Mann-Whitney U + bootstrap CI of the ratio).

  scripts/bench_ab.py --base HEAD~1 [--rounds 6] [--samples 5] FILTER...
  make bench-ab BASE=HEAD~1 FILTER="e2e decode.logs"

Exit status as bench_compare.py (1 on a significant regression).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_common import load_results, median  # noqa: E402


def run(cmd, cwd=ROOT, quiet=True):
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE if quiet else None,
                       stderr=subprocess.STDOUT if quiet else None, text=True)
    if r.returncode != 0:
        if quiet:
            sys.stderr.write(r.stdout or '')
        sys.exit('bench_ab: command failed: %s' % ' '.join(cmd))
    return r.stdout


def build_base(rev):
    """Builds o2p_bench (and the server) at rev; returns the worktree path."""
    sha = run(['git', 'rev-parse', '--verify', rev + '^{commit}']).strip()
    tree = os.path.join(ROOT, 'build', 'bench', 'ab', sha[:12])
    if not os.path.isdir(tree):
        run(['git', 'worktree', 'add', '--detach', tree, sha])
    run(['make', '-C', tree, '-j2', 'build/bench/o2p_bench', 'build/otlp2parquet'])
    return tree, sha


def merge(rounds_dirs, out_dir):
    """Concatenates the samples of each benchmark over the rounds."""
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    merged = {}
    for d in rounds_dirs:
        for name, r in load_results(d).items():
            if r.get('status') != 'ok':
                continue
            if name not in merged:
                merged[name] = r
                merged[name]['samples'] = list(r['samples'])
            else:
                merged[name]['samples'].extend(r['samples'])
    for name, r in merged.items():
        s = r['samples']
        r['stats'] = dict(r.get('stats', {}), median=median(s), mean=sum(s) / len(s), n=len(s))
        with open(os.path.join(out_dir, name + '.json'), 'w') as f:
            json.dump(r, f, indent=1)
    return merged


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--base', default='HEAD', help='git revision of the baseline (default HEAD)')
    ap.add_argument('--rounds', type=int, default=6)
    ap.add_argument('--samples', type=int, default=5, help='samples per benchmark per round')
    ap.add_argument('--threshold', type=float, default=2.0)
    ap.add_argument('--alpha', type=float, default=0.05)
    ap.add_argument('--name', default='ab', help='baseline name for the merged base samples')
    ap.add_argument('filters', nargs='*')
    a = ap.parse_args()

    tree, sha = build_base(a.base)
    run(['make', '-C', ROOT, '-j2', 'build/bench/o2p_bench', 'build/otlp2parquet'])
    sides = {
        'base': (os.path.join(tree, 'build', 'bench', 'o2p_bench'),
                 os.path.join(tree, 'build', 'otlp2parquet')),
        'current': (os.path.join(ROOT, 'build', 'bench', 'o2p_bench'),
                    os.path.join(ROOT, 'build', 'otlp2parquet')),
    }
    work = os.path.join(ROOT, 'build', 'bench', 'ab', 'rounds')
    if os.path.isdir(work):
        shutil.rmtree(work)
    dirs = {'base': [], 'current': []}
    for i in range(a.rounds):
        order = ['base', 'current'] if i % 2 == 0 else ['current', 'base']
        for side in order:
            out = os.path.join(work, '%s-%d' % (side, i))
            binary, server = sides[side]
            print('bench_ab: round %d/%d %s' % (i + 1, a.rounds, side), flush=True)
            run([binary, '--samples', str(a.samples), '--min-samples', str(min(a.samples, 3)),
                 '--server', server, '--out', out] + a.filters)
            dirs[side].append(out)
    base_dir = os.path.join(ROOT, 'build', 'bench', 'baselines', a.name)
    cur_dir = os.path.join(ROOT, 'build', 'bench', 'results')
    merge(dirs['base'], base_dir)
    merge(dirs['current'], cur_dir)
    print('bench_ab: base %s (%s) vs working tree, %d interleaved rounds x %d samples'
          % (a.base, sha[:12], a.rounds, a.samples))
    r = subprocess.run([sys.executable, os.path.join(HERE, 'bench_compare.py'),
                        '--baseline', base_dir, '--current', cur_dir,
                        '--threshold', str(a.threshold), '--alpha', str(a.alpha)], cwd=ROOT)
    subprocess.run([sys.executable, os.path.join(HERE, 'bench_report.py'), '--results', cur_dir,
                    '--baseline', base_dir,
                    '--out', os.path.join(ROOT, 'build', 'bench', 'report', 'index.html')],
                   cwd=ROOT, stdout=subprocess.DEVNULL)
    sys.exit(r.returncode)


if __name__ == '__main__':
    main()
