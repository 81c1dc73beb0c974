import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostOf, readDelivery, UnsupportedDelivery } from '../../shared/events/git/delivery.ts';
import { repoIdentity } from '../../shared/events/git/push.ts';
import { giteeSignature, githubSignature, verifyWith } from '../../shared/events/git/verify.ts';
import { ParseError } from '../../shared/runtime/errors.ts';

const payload = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/git', name));
const now = new Date('2026-11-27T12:00:00Z');

describe('webhook signatures', () => {
  it("matches GitHub's published test vector", () => {
    expect(githubSignature("It's a Secret to Everybody", 'Hello, World!')).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
    const headers = {
      'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    };
    const body = Buffer.from('Hello, World!');
    expect(verifyWith('github', headers, body, "It's a Secret to Everybody", now)).toEqual({ ok: true });
    expect(
      verifyWith('github', headers, Buffer.from('Hello, World?'), "It's a Secret to Everybody", now),
    ).toEqual({
      ok: false,
      reason: 'X-Hub-Signature-256 does not match the body',
    });
    expect(verifyWith('github', {}, body, 'x', now)).toEqual({
      ok: false,
      reason: 'X-Hub-Signature-256 is missing',
    });
  });

  it('takes GitLab and Codeup tokens as plain text', () => {
    const body = Buffer.from('{}');
    expect(verifyWith('gitlab', { 'x-gitlab-token': 's3cret' }, body, 's3cret', now).ok).toBe(true);
    expect(verifyWith('gitlab', { 'x-gitlab-token': 's3cre' }, body, 's3cret', now).ok).toBe(false);
    expect(verifyWith('codeup', { 'x-codeup-token': 's3cret' }, body, 's3cret', now).ok).toBe(true);
    expect(verifyWith('codeup', { 'x-gitlab-token': 's3cret' }, body, 's3cret', now)).toEqual({
      ok: false,
      reason: 'X-Codeup-Token is missing',
    });
  });

  it('takes a Gitee token as password or as a timestamp signature within an hour', () => {
    const body = Buffer.from('{}');
    const ts = String(now.getTime() - 10 * 60_000);
    const sign = giteeSignature('gitee-secret', ts);
    expect(verifyWith('gitee', { 'x-gitee-token': 'gitee-secret' }, body, 'gitee-secret', now).ok).toBe(true);
    expect(
      verifyWith('gitee', { 'x-gitee-token': sign, 'x-gitee-timestamp': ts }, body, 'gitee-secret', now).ok,
    ).toBe(true);
    // Some senders URL-encode the base64 value.
    const encoded = { 'x-gitee-token': encodeURIComponent(sign), 'x-gitee-timestamp': ts };
    expect(verifyWith('gitee', encoded, body, 'gitee-secret', now).ok).toBe(true);
    const old = String(now.getTime() - 2 * 3600_000);
    expect(
      verifyWith(
        'gitee',
        { 'x-gitee-token': giteeSignature('gitee-secret', old), 'x-gitee-timestamp': old },
        body,
        'gitee-secret',
        now,
      ),
    ).toEqual({ ok: false, reason: 'X-Gitee-Timestamp is more than an hour away from now' });
    expect(
      verifyWith('gitee', { 'x-gitee-token': sign, 'x-gitee-timestamp': ts }, body, 'other', now).ok,
    ).toBe(false);
  });
});

describe('deliveries of each host, normalised', () => {
  it('GitHub: a new branch with its file lists', () => {
    const d = readDelivery(
      { 'x-github-event': 'push', 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' },
      payload('github-push-new-branch.json'),
    );
    expect(d).toMatchObject({ host: 'github', id: '72d3162e-cc78-11e3-81ab-4c9367dc0958', kind: 'push' });
    if (d.kind !== 'push') throw new Error('push expected');
    expect(d.push).toEqual({
      host: 'github',
      repository: 'Codertocat/Hello-World',
      urls: [
        'https://github.com/Codertocat/Hello-World.git',
        'https://github.com/Codertocat/Hello-World',
        'git@github.com:Codertocat/Hello-World.git',
      ],
      ref: 'refs/heads/master',
      kind: 'branch',
      name: 'master',
      before: '0000000000000000000000000000000000000000',
      after: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      deleted: false,
      commits: [{ id: '6113728f27ae82c7b1a177c8d03f9e96e0adf246', message: 'Initial commit' }],
      changedPaths: ['README.md'],
    });
  });

  it("GitHub: the default form encoding (JSON in a form's payload field) reads the same as JSON", () => {
    const json = payload('github-push-new-branch.json');
    const form = Buffer.from(`payload=${encodeURIComponent(json.toString('utf8'))}`);
    const headers = { 'x-github-event': 'push', 'x-github-delivery': 'f1' };
    const asForm = readDelivery({ ...headers, 'content-type': 'application/x-www-form-urlencoded' }, form);
    const asJson = readDelivery({ ...headers, 'content-type': 'application/json' }, json);
    expect(asForm).toEqual(asJson);
    expect(() =>
      readDelivery(
        { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        Buffer.from('other=1'),
      ),
    ).toThrow(/body.payload: a form-encoded GitHub delivery carries its JSON in payload/);
  });

  it('GitHub: a deleted tag is recognised as a deletion', () => {
    const d = readDelivery(
      { 'x-github-event': 'push', 'x-github-delivery': 'd1' },
      payload('github-push-tag-deleted.json'),
    );
    expect(d.kind === 'push' && d.push).toMatchObject({ kind: 'tag', name: 'simple-tag', deleted: true });
  });

  it('GitHub ping', () => {
    expect(
      readDelivery({ 'x-github-event': 'ping', 'x-github-delivery': 'p1' }, Buffer.from('{"zen":"x"}')),
    ).toEqual({
      host: 'github',
      event: 'ping',
      id: 'p1',
      kind: 'ping',
    });
  });

  it('GitLab: 2 of 4 commits listed, so the changed paths are unknown; Idempotency-Key wins', () => {
    const d = readDelivery(
      { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'ev-1', 'idempotency-key': 'idem-1' },
      payload('gitlab-push.json'),
    );
    expect(d.id).toBe('idem-1');
    if (d.kind !== 'push') throw new Error('push expected');
    expect(d.push).toMatchObject({
      host: 'gitlab',
      repository: 'mike/diaspora',
      kind: 'branch',
      name: 'master',
      before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
      after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      changedPaths: null,
    });
    expect(d.push?.urls).toContain('http://example.com/mike/diaspora.git');
    const older = readDelivery(
      { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'ev-1' },
      payload('gitlab-push.json'),
    );
    expect(older.id).toBe('ev-1');
  });

  it('GitLab: all commits listed gives the union of their file lists', () => {
    const body = JSON.parse(payload('gitlab-push.json').toString());
    body.total_commits_count = 2;
    const d = readDelivery({ 'x-gitlab-event': 'Push Hook' }, Buffer.from(JSON.stringify(body)));
    expect(d.kind === 'push' && d.push?.changedPaths).toEqual(['CHANGELOG', 'app/controller/application.rb']);
  });

  it('Codeup: no file lists, so the build diffs; the delivery id is the body hash', () => {
    const body = payload('codeup-push.json');
    const d = readDelivery({ 'codeup-event': 'Push Hook', 'x-codeup-token': 't' }, body);
    if (d.kind !== 'push') throw new Error('push expected');
    expect(d.push).toMatchObject({
      host: 'codeup',
      repository: '5f3b2a1c6e7d8f9a0b1c2d3e/demo',
      name: 'master',
      changedPaths: null,
    });
    expect(d.id).toMatch(/^[0-9a-f]{64}$/);
    expect(readDelivery({ 'x-codeup-token': 't' }, body).id).toBe(d.id);
  });

  it('Gitee: file lists with nulls, a new branch', () => {
    const d = readDelivery(
      { 'x-gitee-event': 'Push Hook', 'x-gitee-token': 't' },
      payload('gitee-push.json'),
    );
    if (d.kind !== 'push') throw new Error('push expected');
    expect(d.push).toMatchObject({
      host: 'gitee',
      repository: '开源中国/Gitee',
      name: 'change_commitlint_config',
      changedPaths: ['README.md'],
      deleted: false,
    });
  });

  it('names the unknown host or event', () => {
    expect(() => hostOf({ 'user-agent': 'curl' })).toThrow(
      /unknown git host: expected one of the headers X-GitHub-Event/,
    );
    expect(() => readDelivery({ 'x-github-event': 'issues' }, Buffer.from('{}'))).toThrow(
      new UnsupportedDelivery('unsupported GitHub event "issues" (handled: push, ping)'),
    );
    expect(() => readDelivery({ 'x-gitlab-event': 'Merge Request Hook' }, Buffer.from('{}'))).toThrow(
      /unsupported GitLab event "Merge Request Hook"/,
    );
  });

  it('a push body that is not a push says which field is wrong', () => {
    try {
      readDelivery({ 'x-github-event': 'push' }, Buffer.from('{"ref": "refs/heads/main"}'));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ParseError);
      expect((error as ParseError).issues.map((i) => i.path.join('.'))).toEqual(
        expect.arrayContaining(['body.before', 'body.after', 'body.repository']),
      );
    }
  });
});

describe('repository identity', () => {
  it.each([
    ['https://github.com/Codertocat/Hello-World.git', 'github.com/codertocat/hello-world'],
    ['git@github.com:Codertocat/Hello-World.git', 'github.com/codertocat/hello-world'],
    ['https://token@github.com/Codertocat/Hello-World/', 'github.com/codertocat/hello-world'],
    ['http://example.com:8080/mike/diaspora.git', 'example.com/mike/diaspora'],
    ['/srv/repos/images', '/srv/repos/images'],
    ['file:///srv/repos/images', '/srv/repos/images'],
    ['./repos/images', '/work/repos/images'],
  ])('%s -> %s', (url, identity) => {
    expect(repoIdentity(url, '/work')).toBe(identity);
  });
});
