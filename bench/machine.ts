import { spawnSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What this machine costs for the things the figures are made of. Sessions run on different machines
 * of the same kind, and they differ: one started `node -e 0` in 33 ms, another in 110-140 ms, and an
 * fdatasync took 0.6 ms on the second. A figure is only comparable with one from a machine like it.
 */
export interface MachineFacts {
  cores: number;
  cpu: string;
  /** A fresh `node -e 0`, median of 5. */
  nodeStartMs: number;
  /** Append 100 bytes and fdatasync, in the temp directory, mean of 100. */
  fdatasyncMs: number;
  /** CPU of this process for one loopback TCP round trip of 100 bytes (both ends), mean of 5,000. */
  loopbackCpuUs: number;
  /** 100,000 JSON.stringify + JSON.parse of a small object. */
  jsonMs: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function nodeStart(): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    times.push(performance.now() - started);
  }
  return median(times);
}

function fdatasync(): number {
  const dir = mkdtempSync(join(tmpdir(), 'bench-machine-'));
  const fd = openSync(join(dir, 'journal'), 'a');
  const line = Buffer.alloc(100, 'x');
  const started = performance.now();
  for (let i = 0; i < 100; i++) {
    writeSync(fd, line);
    fdatasyncSync(fd);
  }
  const ms = (performance.now() - started) / 100;
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

async function loopback(): Promise<number> {
  const trips = 5000;
  const server = createServer((s) => s.on('data', (d) => s.write(d)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const message = Buffer.alloc(100, 'x');
  const cpu = process.cpuUsage();
  await new Promise<void>((done) => {
    let n = 0;
    let got = 0;
    socket.on('data', (d) => {
      got += d.length;
      if (got < message.length) return;
      got = 0;
      if (++n === trips) done();
      else socket.write(message);
    });
    socket.write(message);
  });
  const used = process.cpuUsage(cpu);
  socket.destroy();
  server.close();
  return (used.user + used.system) / trips;
}

function json(): number {
  const started = performance.now();
  for (let i = 0; i < 100_000; i++) JSON.parse(JSON.stringify({ a: [1, 2, 3], b: 'hello', c: { d: i } }));
  return performance.now() - started;
}

export async function machineFacts(): Promise<MachineFacts> {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    nodeStartMs: nodeStart(),
    fdatasyncMs: fdatasync(),
    loopbackCpuUs: await loopback(),
    jsonMs: json(),
  };
}

export function formatMachine(m: MachineFacts): string {
  return `machine: ${m.cores} cores (${m.cpu}); node -e 0 ${m.nodeStartMs.toFixed(0)} ms, fdatasync ${m.fdatasyncMs.toFixed(2)} ms, loopback round trip ${m.loopbackCpuUs.toFixed(0)} µs CPU, 100k JSON round trips ${m.jsonMs.toFixed(0)} ms (compare figures only between machines alike in these)`;
}
