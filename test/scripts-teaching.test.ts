/**
 * The eight commands whose `--script` is a hand-written teaching program (p, sym, struct, info,
 * cgroupinfo, cpuinfo -t, tasktable, lockinfo for a lock and --blocked): each program, printed
 * in a session and run on its own, must find the same values as the command's `--json` on the
 * same dump — and, where the fixture's truth (drgn) has them, the truth's values. The programs
 * print text for people, so each one's lines are read back and compared value by value.
 * (The other commands' --script runs the command object itself: test/scripts.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumps, projectRoot, testedArches, truth } from './fixtures.js';
import { runNode, vaat } from './cli.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const CASES: string[][] = [
  ['p', 'init_task.comm'], ['sym', '_stext'], ['struct', 'task_struct'], ['info'], ['cgroupinfo'], ['cpuinfo', '-t'],
  ['tasktable', '--fields', 'pid,comm'], ['lockinfo', 'cgroup_mutex'], ['lockinfo', '--blocked'],
];
const SPLIT = '@@vaat-test-split@@';

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(projectRoot, 'dist', 'teaching-test-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const lines = (s: string): string[] => s.trim().split('\n').filter((l) => l !== '');
const hex = (s: string | bigint | number): string => `0x${BigInt(s).toString(16)}`;

/** the cgroup v2 tree of cgroupinfo --json, flattened in the order the program walks it (pre-order) */
function flatten(node: Json): Json[] { return [node, ...(node.children ?? []).flatMap(flatten)]; }

// one dump per kernel of the cgroup-mutex scenario (a held lock, waiters, D tasks, a cgroup tree) and the basic one
const SCENARIOS = /^(cgroup-mutex-hung|k510-cgroup-mutex-hung|sysrq-basic)$/;
const primary = dumps.filter((d) => d.primary && testedArches.has(d.kernel.arch) && SCENARIOS.test(d.scenario));

describe.each(primary.map((d) => [`${d.scenario}/${d.name}`, d] as const))('%s: teaching --script programs find what --json finds', (_, d) => {
  it(CASES.map((c) => c.join(' ')).join(', '), { timeout: 600_000 }, async () => {
    const s = await vaat(['shell', d.path, '-c', CASES.map((a) => `${a.join(' ')} --json; echo ${SPLIT}; ${a.join(' ')} --script; echo ${SPLIT}`).join('; ')]);
    const parts = s.stdout.split(`${SPLIT}\n`);
    expect(parts, s.stderr).toHaveLength(CASES.length * 2 + 1);
    const programs = CASES.map((argv, i) => {
      const f = join(tmp, `${d.scenario}-${i}.mjs`);
      writeFileSync(f, parts[2 * i + 1]);
      expect(parts[2 * i + 1], argv.join(' ')).toMatch(/^import \{ openVmcore(, \w+)* \} from 'vaat';/);
      return { argv, json: parts[2 * i], f };
    });
    const ran: Awaited<ReturnType<typeof runNode>>[] = [];
    for (let i = 0; i < programs.length; i += 2) ran.push(...await Promise.all(programs.slice(i, i + 2).map((p) => runNode(p.f))));
    const t = truth(d.scenario);
    const extra = (() => { try { return truth(d.scenario, 'extra.json'); } catch { return null; } })();

    for (const [i, { argv, json }] of programs.entries()) {
      const name = argv.join(' ');
      const r = ran[i];
      if (json === '') {
        // the command fails on this dump: so does its program
        expect(r.status, `${name}: ${r.stdout}`).not.toBe(0);
        continue;
      }
      expect(r.stderr, name).toBe('');
      expect(r.status, name).toBe(0);
      const j: Json = JSON.parse(json);
      const out = lines(r.stdout);
      switch (argv[0]) {
        case 'p': {
          expect.soft(out, name).toEqual([`${j[0].type} ${j[0].value}`]);
          if (t.runqueues?.[0]?.idle?.comm) expect.soft(j[0].value).toBe(t.runqueues[0].idle.comm);
          break;
        }
        case 'sym': {
          expect.soft(out, name).toEqual([`_stext ${j[0].address}`]);
          expect.soft(j[0].address).toBe(hex(`0x${t.vmcoreinfo['SYMBOL(_stext)']}`));
          break;
        }
        case 'struct': {
          const members = j.members.map((m: Json) => `${m.offset} ${m.type} ${m.name}`);
          expect.soft(out, name).toEqual([...members, `size ${j.size}`]);
          break;
        }
        case 'info': {
          expect.soft(out[0], name).toBe(`${j.format} ${j.container ?? ''} ${j.codec} dump level ${j.dumpLevel}`);
          expect.soft(out[1], name).toBe(`${j.release} ${j.buildId} ${j.crashTime?.utc ?? 'unknown'}`);
          expect.soft(j.release).toBe(t.vmcoreinfo.OSRELEASE);
          expect.soft(j.buildId).toBe(t.vmcoreinfo['BUILD-ID']);
          if (t.crash_time?.utc) expect.soft(j.crashTime?.utc).toBe(t.crash_time.utc);
          break;
        }
        case 'cgroupinfo': {
          const v2 = j.hierarchies.find((h: Json) => h.version === 2);
          const want = flatten(v2.root).map((c: Json) => `${c.path} id ${c.id} level ${c.level} subtree_control ${c.subtreeControl.join(',') || '-'} cpu.weight ${c.cpu?.weight ?? '-'}`);
          expect.soft(out, name).toEqual(want);
          const byPath = new Map((t.cgroups ?? []).map((c: Json) => [c.path, c]));
          for (const c of flatten(v2.root)) {
            const tc = byPath.get(c.path) as Json;
            if (!tc) continue;
            expect.soft([c.id, c.level, c.subtreeControl], c.path).toEqual([tc.id, tc.level, tc.subtree_control]);
          }
          break;
        }
        case 'cpuinfo': {
          const want = j.tlb.cpus.map((c: Json) => {
            const slot = c.ctxs.find((x: Json) => x.asid === c.loadedMmAsid);
            return `cpu ${c.cpu} mm ${c.loadedMm} slot ${slot.ctxId} ${slot.tlbGen} mm ${c.mmCtxId} ${c.mmTlbGen} lazy ${c.isLazy}`;
          });
          expect.soft(out, name).toEqual(want);
          for (const tc of extra?.tlb?.cpus ?? []) {
            const c = j.tlb.cpus.find((x: Json) => x.cpu === tc.cpu);
            expect.soft([c.loadedMm, c.loadedMmAsid, c.isLazy], `cpu ${tc.cpu}`).toEqual([tc.loaded_mm, tc.loaded_mm_asid, tc.is_lazy]);
          }
          break;
        }
        case 'tasktable': {
          expect.soft(out, name).toEqual(j.rows.map((row: Json) => `${row.pid} ${row.comm}`));
          const pids = new Set((t.tasks ?? []).map((x: Json) => x.pid));
          for (const row of j.rows) if (pids.size && row.pid !== 0) expect.soft(pids.has(row.pid), `pid ${row.pid} in the truth`).toBe(true);
          break;
        }
        case 'lockinfo': {
          if (argv[1] === '--blocked') {
            const tasks = j.tasks.map((x: Json) => {
              const owner = x.ownerPid ?? x.owner_pid;
              const ownerComm = x.ownerComm ?? x.owner_comm;
              const lock = x.lockSymbol ?? x.lock_symbol;
              const waits = (x.kind === 'lock' && (x.lockKind ?? x.lock_kind) === 'mutex')
                ? `waits on ${lock}+0x0/0x${(x.lockSize ?? 32).toString(16)} held by ${owner != null ? `${ownerComm}(${owner})` : 'nobody'}`
                : 'not waiting on a mutex';
              return `${x.comm}(${x.pid}) D ${waits}`;
            });
            expect.soft(out.map((l) => l.replace(/\+0x0\/0x[0-9a-f]+/, '+0x0/0x20')), name).toEqual(tasks.map((l: string) => l.replace(/\+0x0\/0x[0-9a-f]+/, '+0x0/0x20')));
          } else {
            const l = j.lock;
            const want = l.locked && l.owner
              ? [`owner ${l.owner.pid} ${l.owner.comm} raw ${l.ownerRaw} flags ${l.ownerFlags}`]
              : ['unlocked'];
            want.push(...l.waiters.map((w: Json) => `waiter ${w.pid} ${w.comm}`));
            expect.soft(out, name).toEqual(want);
            const tm = t.cgroup_mutex;
            if (tm) {
              expect.soft(l.address).toBe(tm.address);
              expect.soft(l.ownerRaw).toBe(tm.owner_raw);
              expect.soft(l.owner?.pid ?? null).toBe(tm.owner?.pid ?? null);
              expect.soft(l.waiters.map((w: Json) => w.pid)).toEqual(tm.waiters.map((w: Json) => w.pid));
            }
          }
          break;
        }
        default: throw new Error(`no check for ${name}`);
      }
    }
  });
});
