import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sandbox } from '../../local/sandbox/server.ts';
import { sinkSecretsFromEnv } from '../../local/sandbox/sinks.ts';
import { cloudFor, KEY, SEED, startSandbox } from './harness.ts';

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('notification sinks', () => {
  it("accept each channel's correctly signed messages and refuse the rest in the channel's own words", async () => {
    const sandbox = await startSandbox();
    try {
      const ts = Date.now();
      const sign = encodeURIComponent(
        createHmac('sha256', 'SECsecret').update(`${ts}\nSECsecret`).digest('base64'),
      );
      const ding = await post(
        `${sandbox.url}/sinks/dingtalk/robot/send?access_token=tok&timestamp=${ts}&sign=${sign}`,
        { msgtype: 'markdown', markdown: { title: 't', text: 'hi' } },
      );
      expect(await ding.json()).toEqual({ errcode: 0, errmsg: 'ok' });
      const badDing = await post(
        `${sandbox.url}/sinks/dingtalk/robot/send?access_token=tok&timestamp=${ts}&sign=forged`,
        { msgtype: 'text', text: { content: 'x' } },
      );
      expect(await badDing.json()).toEqual({ errcode: 310000, errmsg: 'sign not match' });

      const s = Math.floor(Date.now() / 1000);
      const larkSign = createHmac('sha256', `${s}\nlark-secret`).update('').digest('base64');
      expect(
        await (
          await post(`${sandbox.url}/sinks/lark/open-apis/bot/v2/hook/hook1`, {
            timestamp: String(s),
            sign: larkSign,
            msg_type: 'text',
            content: { text: 'hi' },
          })
        ).json(),
      ).toEqual({ code: 0, msg: 'success' });
      expect(
        await (
          await post(`${sandbox.url}/sinks/lark/open-apis/bot/v2/hook/hook1`, {
            timestamp: String(s - 7200),
            sign: larkSign,
            msg_type: 'text',
          })
        ).json(),
      ).toMatchObject({ code: 19021 });

      expect(
        await (
          await post(`${sandbox.url}/sinks/wecom/cgi-bin/webhook/send?key=wk`, {
            msgtype: 'text',
            text: { content: 'hi' },
          })
        ).json(),
      ).toEqual({ errcode: 0, errmsg: 'ok' });
      expect(
        await (
          await post(`${sandbox.url}/sinks/wecom/cgi-bin/webhook/send?key=nope`, { msgtype: 'text' })
        ).json(),
      ).toMatchObject({ errcode: 93000 });
      expect(await (await post(`${sandbox.url}/sinks/slack/services/T/B/X`, { text: 'hi' })).text()).toBe(
        'ok',
      );
      expect((await post(`${sandbox.url}/sinks/slack/services/T/B/Y`, { text: 'hi' })).status).toBe(404);

      const body = JSON.stringify({ kind: 'image.build.succeeded' });
      const t = Math.floor(Date.now() / 1000);
      const v1 = createHmac('sha256', 'hook-secret').update(`${t}.${body}`).digest('hex');
      expect(
        (
          await post(`${sandbox.url}/sinks/webhook/audit`, body, {
            'x-fc-devops-signature': `t=${t},v1=${v1}`,
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await post(`${sandbox.url}/sinks/webhook/audit`, body, {
            'x-fc-devops-signature': `t=${t},v1=${'0'.repeat(64)}`,
          })
        ).status,
      ).toBe(401);

      const inbox = (await (await fetch(`${sandbox.url}/_sandbox/messages`)).json()) as {
        sinks: { channel: string }[];
      };
      expect(inbox.sinks.map((m) => m.channel)).toEqual(['dingtalk', 'lark', 'wecom', 'slack', 'webhook']);
    } finally {
      await sandbox.stop();
    }
  });

  it('can fail a sink twice and then accept, for delivery retries', async () => {
    const sandbox = await startSandbox();
    try {
      await post(`${sandbox.url}/_sandbox/faults`, { action: 'sink:wecom', failNext: 2, failWith: 'error' });
      const send = () =>
        post(`${sandbox.url}/sinks/wecom/cgi-bin/webhook/send?key=wk`, {
          msgtype: 'text',
          text: { content: 'x' },
        });
      expect([(await send()).status, (await send()).status, (await send()).status]).toEqual([500, 500, 200]);
      expect(sandbox.messages).toHaveLength(1);
    } finally {
      await sandbox.stop();
    }
  });

  it('reads sink secrets from the variables the example config uses', () => {
    const secrets = sinkSecretsFromEnv({
      DINGTALK_WEBHOOK: 'http://127.0.0.1:8788/sinks/dingtalk/robot/send?access_token=abc',
      DINGTALK_SECRET: 'SECx',
      LARK_WEBHOOK: 'http://127.0.0.1:8788/sinks/lark/open-apis/bot/v2/hook/h1',
      AUDIT_WEBHOOK_URL: 'http://127.0.0.1:8788/sinks/webhook/audit',
      AUDIT_WEBHOOK_SECRET: 'w',
    });
    expect(secrets).toMatchObject({
      dingtalk: { abc: 'SECx' },
      lark: { h1: undefined },
      webhook: { audit: 'w' },
    });
  });
});

describe('sandbox state', () => {
  it('keeps its state on disk across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-disk-'));
    const options = { port: 0, dir, seed: SEED, keys: { [KEY.accessKeyId]: KEY.accessKeySecret } };
    const first = await Sandbox.start(options);
    await cloudFor(first).fc.publishVersion('demo-api', 'persisted');
    await first.stop();
    const second = await Sandbox.start(options);
    try {
      expect((await cloudFor(second).fc.listVersions('demo-api')).versions[0]).toMatchObject({
        versionId: '4',
        description: 'persisted',
      });
    } finally {
      await second.stop();
    }
  });

  it('runs time faster when asked: a 10-minute backup finishes in about a second at 600x', async () => {
    const sandbox = await startSandbox({ timeScale: 600 });
    try {
      const cloud = cloudFor(sandbox);
      const { jobId } = await cloud.rds.createBackup('rm-bp1sandbox0001');
      const started = Date.now();
      let status = '';
      while (status !== 'Finished' && Date.now() - started < 5000) {
        status = (await cloud.rds.backupTask('rm-bp1sandbox0001', jobId))?.BackupStatus ?? '';
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe('Finished');
      expect(Date.now() - started).toBeGreaterThan(700);
    } finally {
      await sandbox.stop();
    }
  });

  it('enforces the quota of 20 backups per instance per day', async () => {
    const sandbox = await startSandbox();
    try {
      const cloud = cloudFor(sandbox);
      // Start at 01:00 UTC of the next day, so the 20 backups below all fall on one day.
      const now = sandbox.clock.now();
      sandbox.clock.advance(Math.ceil(now / 86_400_000) * 86_400_000 + 3_600_000 - now);
      let made = 0;
      let error: unknown;
      for (let i = 0; i < 25 && !error; i++) {
        try {
          await cloud.rds.createBackup('rm-bp1sandbox0001');
          made++;
          sandbox.clock.advance(11 * 60_000);
        } catch (e) {
          error = e;
        }
      }
      expect(error).toMatchObject({ upstreamCode: 'QuotaExceeded.BackupCount' });
      expect(made).toBe(20);
    } finally {
      await sandbox.stop();
    }
  });
});
