import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LrSchedule, scheduleFromConfig } from '../../src/train/schedule.ts';
import { UserError } from '../../src/errors.ts';

/** A stand-in optimizer: the schedule only touches `groups[i].lr`. */
function groups(...base: number[]) {
  return { groups: base.map((b) => ({ baseLr: b, lr: b })) };
}

/** Run a whole training's worth of epochs and record the lr of each group during each epoch. */
function lrsPerEpoch(s: LrSchedule, nEpochs: number, opt = groups(1e-5, 5e-4)): number[][] {
  s.apply(opt);
  const out: number[][] = [];
  for (let e = 0; e < nEpochs; e++) {
    out.push(opt.groups.map((g) => g.lr));
    s.step(opt); // after the epoch's evaluation (docs/porting.md#lr-schedule)
  }
  return out;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));

test('MultiStep for the CUB run: 1e-5 for epochs 0–49, 3e-6 for 50–99; β group 5e-4 → 1.5e-4', () => {
  const lrs = lrsPerEpoch(scheduleFromConfig({ scheduler: 'step', gamma: 0.3, tau: [50] }), 100);
  for (let e = 0; e < 50; e++) assert.deepEqual(lrs[e], [1e-5, 5e-4], `epoch ${e}`);
  for (let e = 50; e < 100; e++) {
    assert.ok(close(lrs[e][0], 3e-6) && close(lrs[e][1], 1.5e-4), `epoch ${e}: ${lrs[e]}`);
  }
});

test('MultiStep for SOP/VehicleID (tau 20 35): 1e-5, 3e-6, 9e-7 — the same doubles as torch’s in-place chain', () => {
  const lrs = lrsPerEpoch(new LrSchedule({ kind: 'step', gamma: 0.3, milestones: [20, 35] }), 45);
  assert.equal(lrs[19][0], 1e-5);
  assert.equal(lrs[20][0], 1e-5 * 0.3);
  assert.equal(lrs[34][0], 1e-5 * 0.3);
  assert.equal(lrs[35][0], 1e-5 * 0.3 * 0.3);
  assert.ok(close(lrs[44][0], 9e-7));
  assert.ok(close(lrs[44][1], 4.5e-5));
});

test('exp multiplies every epoch; none never changes', () => {
  const exp = lrsPerEpoch(new LrSchedule({ kind: 'exp', gamma: 0.5, milestones: [] }), 4, groups(1));
  assert.deepEqual(
    exp.map((r) => r[0]),
    [1, 0.5, 0.25, 0.125],
  );
  const none = lrsPerEpoch(new LrSchedule({ kind: 'none', gamma: 0.3, milestones: [1] }), 3, groups(2));
  assert.deepEqual(
    none.map((r) => r[0]),
    [2, 2, 2],
  );
});

test('a repeated milestone multiplies twice (as torch MultiStepLR)', () => {
  const s = new LrSchedule({ kind: 'step', gamma: 0.1, milestones: [2, 2] });
  assert.equal(s.decaysBefore(1), 0);
  assert.equal(s.decaysBefore(2), 2);
});

test('state/loadState resumes mid-schedule', () => {
  const a = new LrSchedule({ kind: 'step', gamma: 0.3, milestones: [3] });
  const optA = groups(1);
  a.apply(optA);
  for (let e = 0; e < 4; e++) a.step(optA);
  const b = new LrSchedule({ kind: 'step', gamma: 0.3, milestones: [3] });
  const optB = groups(1);
  b.loadState(JSON.parse(JSON.stringify(a.state())));
  b.apply(optB);
  assert.equal(optB.groups[0].lr, optA.groups[0].lr);
  assert.equal(optB.groups[0].lr, 0.3);
  assert.throws(
    () => new LrSchedule({ kind: 'exp', gamma: 0.3, milestones: [] }).loadState(a.state(), 'run/last'),
    (e: unknown) => e instanceof UserError && /--scheduler step/.test(e.message),
  );
});
