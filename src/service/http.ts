/**
 * The service's HTTP side (Fastify): the fleet and per-dump pages and a JSON API, all read from
 * the database, described as OpenAPI at /openapi.json. Read-only: no route writes, and no route
 * takes a path — dumps are named by their id, so nothing outside what the service analysed can
 * be reached through a URL.
 */
import type { FastifyInstance } from 'fastify';
import type { Storage, DumpState } from './storage.js';
import { dumpPage, fleetPage } from './pages.js';
import { ASSET_FILES, anchorId, readAsset } from '../report/html/index.js';
import { importModule } from '../dynamic-import.js';

export interface HttpOptions {
  storage: Storage;
  /** the queue's counts, for /api/status */
  queueCounts?(): Promise<Record<string, number>>;
  watching?(): { dirs: readonly string[]; waiting: number };
  /** the bucketing threshold, shown on the fleet page */
  threshold?: number;
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
/** /api/dumps page sizes */
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export async function buildHttp(o: HttpOptions): Promise<FastifyInstance> {
  const { default: Fastify } = await importModule<typeof import('fastify')>('fastify');
  const { default: swagger } = await importModule<typeof import('@fastify/swagger')>('@fastify/swagger');
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
  app.get<{ Querystring: { state?: DumpState; limit?: number; cursor?: string } }>('/api/dumps', {
    schema: {
      summary: 'dumps in arrival (id) order, a page at a time, optionally in one state',
      description: 'Pages are keyset-paginated: pass the nextCursor of a page as cursor to get the next one; '
        + 'nextCursor is null on the last page. Dumps that arrive while paging are found on a later page, none is listed twice.',
      querystring: {
        type: 'object',
        properties: {
          state: { type: 'string', enum: STATES },
          limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE, description: `dumps per page (at most ${MAX_PAGE})` },
          cursor: { type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: "the previous page's nextCursor (opaque)" },
        },
      },
      response: {
        200: {
          description: 'one page of dumps',
          type: 'object',
          required: ['dumps', 'nextCursor'],
          properties: {
            dumps: anyArray('the dumps of this page'),
            nextCursor: { type: 'string', nullable: true, description: 'the cursor of the next page; null when this is the last' },
          },
        },
      },
    },
  }, async (req) => {
    const limit = req.query.limit ?? DEFAULT_PAGE;
    // one more than the page: whether there is a next page, without counting
    const rows = await s.dumps({ state: req.query.state, afterId: req.query.cursor ? Number(req.query.cursor) : undefined, limit: limit + 1 });
    const dumps = rows.slice(0, limit);
    return { dumps, nextCursor: rows.length > limit ? String(dumps[dumps.length - 1].id) : null };
  });
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

  // The pages: the HTML report's renderer over the database (pages.ts), and what they link to.
  app.get('/', hide, async (_req, reply) => html(reply, await fleetPage(s, o.threshold)));
  app.get<{ Params: { id: number } }>('/dumps/:id', { schema: { hide: true, params: idParam } }, async (req, reply) => {
    const page = await dumpPage(s, req.params.id);
    if (page === null) return reply.code(404).send({ error: `no dump ${req.params.id}` });
    return html(reply, page);
  });
  // a dump's report files, as the dump page links them: NAME.json, NAME.txt and summary.json
  app.get<{ Params: { id: number; file: string } }>('/dumps/:id/files/:file', {
    schema: { hide: true, params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 }, file: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,40}\\.(json|txt)$' } }, required: ['id', 'file'] } },
  }, async (req, reply) => {
    const [name, ext] = req.params.file.split('.');
    if (req.params.file === 'summary.json') {
      const sum = await s.summary(req.params.id);
      if (!sum) return reply.code(404).send({ error: `dump ${req.params.id} has no report` });
      return sum;
    }
    const sec = await s.section(req.params.id, name);
    if (!sec || !sec.ok) return reply.code(404).send({ error: `no report file ${req.params.file} for dump ${req.params.id}` });
    reply.type(ext === 'txt' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8');
    return ext === 'txt' ? sec.text ?? '' : sec.json ?? 'null';
  });
  app.get<{ Params: { file: string } }>('/assets/:file', { schema: { hide: true, params: { type: 'object', properties: { file: { type: 'string', enum: [...ASSET_FILES] } }, required: ['file'] } } },
    async (req, reply) => {
      reply.type(req.params.file.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      reply.header('cache-control', 'public, max-age=3600');
      return readAsset(req.params.file as (typeof ASSET_FILES)[number]);
    });
  // browsers ask for one; there is none (a 404 would be a console error on every page)
  app.get('/favicon.ico', hide, async (_req, reply) => reply.code(204).send());
  // a bucket is a section of the fleet page
  app.get<{ Params: { id: number } }>('/buckets/:id', { schema: { hide: true, params: idParam } }, async (req, reply) => {
    if (!await s.bucket(req.params.id)) return reply.code(404).send({ error: `no bucket ${req.params.id}` });
    return reply.redirect(`../#${anchorId('bucket', req.params.id)}`);
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
