/**
 * Runs the built `otlp2parquet serve` for end-to-end tests.
 *
 *   const srv = await startServer({ env: { OTLP2PARQUET_BATCH_MAX_AGE_SECS: '1' } });
 *   srv.url('/v1/logs')         http://127.0.0.1:PORT/v1/logs
 *   srv.grpcPort                the OTLP/gRPC port (0 when gRPC is off)
 *   srv.outDir                  the storage root (a fresh temp dir unless opts.outDir)
 *   const r = await srv.stop(); // SIGTERM, waits for exit: { code, signal }
 *   srv.describe()              command, exit status, stdout and stderr for messages
 *   await stopAllServers();     in test.after: kills leftovers, removes temp dirs
 *
 * The server listens on 127.0.0.1:0 (a free port chosen by the kernel), and
 * so does its gRPC listener (read from "grpc on port N"); the
 * port is read from the banner ("bound to port N" and the like), then GET /health
 * must answer 200 before startServer resolves.  The child's environment has
 * every OTLP2PARQUET_* variable of ours removed (only opts.env's remain) and
 * its working directory is an empty temp dir, so no config.toml there or in
 * our environment changes the defaults.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../..');

/** Absolute path of the built binary (may not exist). */
export function serverBinary() {
  return path.join(process.env.O2P_BUILD || path.join(REPO, 'build'), 'otlp2parquet');
}

/** Why the server cannot be started, or null when it can. */
export function serverMissing() {
  const bin = serverBinary();
  return fs.existsSync(bin) ? null : `${bin} does not exist (build with make; set O2P_BUILD)`;
}

const temps = new Set();
const running = new Set();

/** A fresh temporary directory, removed by stopAllServers(). */
export function serverTempDir(tag = 'srv') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `o2p-${tag}-`));
  temps.add(d);
  return d;
}

function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTLP2PARQUET_')) env[k] = v;
  return env;
}

/**
 * GET path on 127.0.0.1:port; resolves {status, body} or rejects on a socket
 * error.  tls: https options ({ca, cert, key}) for a TLS server, else plain HTTP.
 */
function quickGet(port, p, timeoutMs = 2000, tls = null) {
  return new Promise((resolve, reject) => {
    const mod = tls ? https : http;
    const req = mod.get({ host: '127.0.0.1', port, path: p, agent: false, timeout: timeoutMs, ...(tls ?? {}) }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${p} timed out`)));
    req.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the server.  opts: env (added variables), args (extra CLI args,
 * after `serve`), outDir (storage root; default a fresh temp dir; null
 * for none, e.g. when env chooses S3), startTimeoutMs (default 10 s),
 * tls ({ca, cert, key} https options: the server speaks TLS; url() is https).
 * Rejects with the server's output when it exits or never gets ready.
 */
export async function startServer(opts = {}) {
  const missing = serverMissing();
  if (missing) throw new Error(missing);
  const outDir = opts.outDir === undefined ? serverTempDir('out') : opts.outDir;
  const cwd = serverTempDir('cwd');
  const args = ['serve', ...(outDir ? ['-o', outDir] : []), ...(opts.args ?? [])];
  const env = {
    ...cleanEnv(),
    OTLP2PARQUET_LISTEN_ADDR: '127.0.0.1:0',
    OTLP2PARQUET_GRPC_LISTEN_ADDR: '127.0.0.1:0',
    ...(opts.env ?? {}),
  };
  const child = spawn(serverBinary(), args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  let exit = null;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      running.delete(srv);
      resolve(exit);
    });
    child.on('error', (e) => {
      stderr += `\n[spawn error: ${e.message}]`;
      exit = exit ?? { code: null, signal: null, error: e };
      running.delete(srv);
      resolve(exit);
    });
  });

  const srv = {
    child,
    pid: child.pid,
    outDir,
    cwd,
    args,
    env: opts.env ?? {},
    port: 0,
    grpcPort: 0,
    exited,
    get exit() { return exit; },
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    url(p = '/') { return `${opts.tls ? 'https' : 'http'}://127.0.0.1:${srv.port}${p}`; },
    /** A multi-line description for assertion messages. */
    describe() {
      const envText = Object.entries(srv.env).map(([k, v]) => `${k}=${v}`).join(' ');
      return `${envText} otlp2parquet ${args.join(' ')} (pid ${child.pid}, port ${srv.port})\n`
        + `  exit: ${exit ? `${exit.code}${exit.signal ? ` signal ${exit.signal}` : ''}` : 'still running'}\n`
        + `  stdout: ${stdout.trim().slice(-1500)}\n  stderr: ${stderr.trim().slice(-3000)}`;
    },
    /** Sends a signal (default SIGTERM) and waits for exit; SIGKILL after timeoutMs. */
    async stop(sig = 'SIGTERM', timeoutMs = 60000) {
      if (exit) return exit;
      try { child.kill(sig); } catch { /* already gone */ }
      let timer;
      const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
      const r = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (r === 'timeout') {
        try { child.kill('SIGKILL'); } catch { /* gone */ }
        await exited;
        return { code: null, signal: 'SIGKILL', timedOut: true };
      }
      return r;
    },
    /** GET a path (e.g. /ready); {status, body}. */
    get(p) { return quickGet(srv.port, p, 2000, opts.tls); },
    /** The /metrics text. */
    async metrics() {
      const r = await quickGet(srv.port, '/metrics', 2000, opts.tls);
      if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
      return r.body;
    },
  };
  running.add(srv);

  const deadline = Date.now() + (opts.startTimeoutMs ?? 10000);
  while (!srv.port) {
    const port = announcedPort(`${stdout}\n${stderr}`);
    if (port) srv.port = port;
    else if (exit) throw new Error(`the server exited before listening:\n${srv.describe()}`);
    else if (Date.now() > deadline) {
      await srv.stop('SIGKILL');
      throw new Error(`no port announced ("bound to port N") within the start timeout:\n${srv.describe()}`);
    } else await sleep(10);
  }
  const gm = `${stdout}\n${stderr}`.match(/\bgrpc on port (\d+)/);
  if (gm) srv.grpcPort = Number(gm[1]);
  for (;;) {
    if (exit) throw new Error(`the server exited during start-up:\n${srv.describe()}`);
    try {
      const r = await quickGet(srv.port, '/health', 1000, opts.tls);
      if (r.status === 200) break;
    } catch { /* not accepting yet */ }
    if (Date.now() > deadline) {
      await srv.stop('SIGKILL');
      throw new Error(`GET /health never answered 200:\n${srv.describe()}`);
    }
    await sleep(20);
  }
  return srv;
}

/**
 * The port the server says it listens on.  The banner's wording has
 * changed over time ("listening on port N", "bound to port N", the log line
 * "ready on port N", "listening on http://HOST:N"): any of them will do.
 */
function announcedPort(text) {
  for (const re of [/\b(?:listening on|bound to|ready on) port (\d+)/, /listening on https?:\/\/(?:\[[^\]]*\]|[^\s:/]+):(\d+)/]) {
    const m = text.match(re);
    if (m && Number(m[1]) > 0) return Number(m[1]);
  }
  return 0;
}

/** Kills every server still running (SIGKILL) and removes the temp dirs. */
export async function stopAllServers() {
  for (const srv of [...running]) await srv.stop('SIGKILL', 5000);
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
  temps.clear();
}

// Last resort when a test process dies without running its after hooks.
process.on('exit', () => {
  for (const srv of running) {
    try { srv.child.kill('SIGKILL'); } catch { /* gone */ }
  }
});

/**
 * Parses Prometheus text: value(name, labels) returns the sample whose name
 * matches and whose labels include every given label (summed when several
 * match), or 0 when none does.
 */
export function parseProm(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return {
    samples,
    value(name, want = {}) {
      let sum = 0;
      for (const s of samples) {
        if (s.name !== name) continue;
        if (Object.entries(want).every(([k, v]) => s.labels[k] === String(v))) sum += s.value;
      }
      return sum;
    },
    has(name, want = {}) {
      return samples.some((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === String(v)));
    },
  };
}

/**
 * Polls fn every 50 ms until it returns something truthy, and returns that;
 * after timeoutMs throws, naming `what` and (when given) the server's output.
 */
export async function waitFor(what, fn, timeoutMs, srv) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${srv?.describe() ?? ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a command (e.g. mount) synchronously: { ok, out } with stdout and stderr. */
export function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}
