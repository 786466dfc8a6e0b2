/**
 * The service's HTTP side (Fastify): the fleet and per-dump pages and a JSON API, all read from
 * the database, described as OpenAPI at /openapi.json. Read-only: no route writes, and no route
 * takes a path — dumps are named by their id, so nothing outside what the service analysed can
 * be reached through a URL.
 */
import type { FastifyInstance } from 'fastify';
import type { Storage, DumpState } from './storage.js';
import { bucketPage, dumpPage, fleetPage, sectionPage } from './pages.js';

export interface HttpOptions {
  storage: Storage;
  /** the queue's counts, for /api/status */
  queueCounts?(): Promise<Record<string, number>>;
  watching?(): { dirs: readonly string[]; waiting: number };
}

const idParam = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const;
const sectionParam = {
  type: 'object',
  properties: { id: { type: 'integer', minimum: 1 }, section: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,40}$' } },
  required: ['id', 'section'],
} as const;
const anyObject = (description: string): Record<string, unknown> => ({ description, type: 'object', additionalProperties: true });
const anyArray = (description: string): Record<string, unknown> => ({ description, type: 'array', items: { type: 'object', additionalProperties: true } });
const notFound = { description: 'no such dump, bucket or section', type: 'object', properties: { error: { type: 'string' } } };
const STATES: DumpState[] = ['queued', 'analysing', 'done', 'failed', 'rejected'];

export async function buildHttp(o: HttpOptions): Promise<FastifyInstance> {
  const { default: Fastify } = await import('fastify');
  const { default: swagger } = await import('@fastify/swagger');
  const app = Fastify({ logger: false });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'vaat fleet service', version: '1', description: 'Crash dumps analysed as they land, grouped in buckets. Read-only.' },
    },
  });
  const s = o.storage;
  const html = (reply: { type(t: string): unknown }, body: string): string => { reply.type('text/html; charset=utf-8'); return body; };
  const hide = { schema: { hide: true } };

  app.get('/api/status', { schema: { summary: 'dumps per state, buckets, queue and watcher', response: { 200: anyObject('counts') } } }, async () => ({
    ...(await s.stats()), queue: o.queueCounts ? await o.queueCounts() : null, watching: o.watching?.() ?? null, database: s.where,
  }));
  app.get('/api/buckets', { schema: { summary: 'every bucket, largest first', response: { 200: anyArray('buckets') } } }, async () => s.buckets());
  app.get<{ Params: { id: number } }>('/api/buckets/:id', { schema: { summary: 'one bucket with its dumps', params: idParam, response: { 200: anyObject('the bucket and its members'), 404: notFound } } },
    async (req, reply) => {
      const b = await s.bucket(req.params.id);
      if (!b) return reply.code(404).send({ error: `no bucket ${req.params.id}` });
      return { ...b, members: await s.dumps({ bucketId: b.id }) };
    });
  app.get<{ Querystring: { state?: DumpState } }>('/api/dumps', {
    schema: { summary: 'every dump, optionally in one state', querystring: { type: 'object', properties: { state: { type: 'string', enum: STATES } } }, response: { 200: anyArray('dumps') } },
  }, async (req) => s.dumps({ state: req.query.state }));
  app.get<{ Params: { id: number } }>('/api/dumps/:id', { schema: { summary: 'one dump: state, error, bucket, signature fields, report sections', params: idParam, response: { 200: anyObject('the dump'), 404: notFound } } },
    async (req, reply) => {
      const d = await s.dump(req.params.id);
      if (!d) return reply.code(404).send({ error: `no dump ${req.params.id}` });
      return { ...d, sections: await s.sections(d.id) };
    });
  app.get<{ Params: { id: number; section: string }; Querystring: { format?: 'json' | 'text' } }>('/api/dumps/:id/report/:section', {
    schema: {
      summary: "one report section: the command's --json output (or its text with ?format=text)",
      params: sectionParam, querystring: { type: 'object', properties: { format: { type: 'string', enum: ['json', 'text'] } } },
      // 200: the section's JSON as the command printed it (any shape), or text/plain
      response: { 404: notFound },
    },
  }, async (req, reply) => {
    const sec = await s.section(req.params.id, req.params.section);
    if (!sec) return reply.code(404).send({ error: `no section '${req.params.section}' for dump ${req.params.id}` });
    if (!sec.ok) return reply.code(404).send({ error: `section '${sec.name}' failed: ${sec.error}` });
    if (req.query.format === 'text') { reply.type('text/plain; charset=utf-8'); return sec.text ?? ''; }
    reply.type('application/json; charset=utf-8');
    return sec.json ?? 'null';
  });
  app.get<{ Params: { id: number } }>('/api/similar/:id', { schema: { summary: 'dumps most like this one (candidates from the signature index), with reasons', params: idParam, response: { 200: anyArray('ranked matches'), 404: notFound } } },
    async (req, reply) => {
      const r = await s.similar(req.params.id);
      if (!r) return reply.code(404).send({ error: `dump ${req.params.id} has no signature` });
      return r;
    });
  app.get('/api/dead-letters', { schema: { summary: 'dumps whose analysis lost its worker on every attempt', response: { 200: anyArray('dumps') } } },
    async () => (await s.dumps({ state: 'failed' })).filter((d) => d.deadLetter));
  app.get('/openapi.json', hide, async () => app.swagger());

  app.get('/', hide, async (_req, reply) => {
    const all = await s.dumps();
    return html(reply, fleetPage(await s.buckets(), all.filter((d) => d.bucketId === null), await s.stats()));
  });
  app.get<{ Params: { id: number } }>('/buckets/:id', { schema: { hide: true, params: idParam } }, async (req, reply) => {
    const b = await s.bucket(req.params.id);
    if (!b) return reply.code(404).send({ error: 'no such bucket' });
    return html(reply, bucketPage(b, await s.dumps({ bucketId: b.id })));
  });
  app.get<{ Params: { id: number } }>('/dumps/:id', { schema: { hide: true, params: idParam } }, async (req, reply) => {
    const d = await s.dump(req.params.id);
    if (!d) return reply.code(404).send({ error: 'no such dump' });
    return html(reply, dumpPage(d, await s.sections(d.id)));
  });
  app.get<{ Params: { id: number; section: string } }>('/dumps/:id/report/:section', { schema: { hide: true, params: sectionParam } }, async (req, reply) => {
    const d = await s.dump(req.params.id);
    const sec = d ? await s.section(d.id, req.params.section) : null;
    if (!d || !sec) return reply.code(404).send({ error: 'no such section' });
    return html(reply, sectionPage(d, sec));
  });
  return app;
}

/** `--listen`: `PORT`, `HOST:PORT` or `[v6]:PORT`; 127.0.0.1:8080 by default */
export function parseListen(spec: string | undefined): { host: string; port: number } {
  if (!spec) return { host: '127.0.0.1', port: 8080 };
  const m = /^(?:\[([^\]]+)\]|([^:]+))?:?(\d+)$/.exec(spec);
  if (!m) throw new Error(`--listen wants HOST:PORT, not '${spec}'`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`--listen: port ${port} out of range`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}
