import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { StreamFormat } from '../chunk/streaming-chunk';
import { AttemptContext } from './attempt-context';
import type { AttemptLog } from './attempt-record';
import { anthropicWire } from './anthropic-wire';
import { base62Id, hashString, mix } from './deterministic-text';
import { providerError, type ErrorFacts, type ErrorResponse } from './error-bodies';
import {
  FaultSpecError,
  faultModelPrefix,
  formatFaultSpecs,
  parseFaultSpec,
  type FaultSpec,
} from './fault-spec';
import { googleWire } from './google-wire';
import { openAIWire } from './openai-wire';
import { planChoices, type AnswerPlans } from './plan-answer';
import { readRequestBody } from './read-request-body';
import type { CompiledScenario } from './scenario';
import { jsonAnswer, streamAnswer, type Pacing } from './send-answer';
import {
  SimulatedRequestError,
  readSimulatedRequest,
  type SimulatedRequest,
} from './simulated-request';
import {
  geminiJson,
  jsonArrayFramer,
  sseFramer,
  type AnswerIds,
  type Framer,
  type WireEncoder,
} from './wire-frame';

/** What the request handler needs from the simulator. */
export interface SimulatorRuntime {
  readonly log: AttemptLog;
  readonly now: () => number;
  readonly active: Set<AttemptContext>;
  scenarios: CompiledScenario[];
  /** `flap`: when each fault key was first hit. */
  readonly flapFirstHit: Map<string, number>;
  /** `succeed-on`: attempts per fault key. */
  readonly faultAttempts: Map<string, number>;
  readonly settings: RuntimeSettings;
}

/** The resolved options the handler uses. */
export interface RuntimeSettings {
  latencyMs: number;
  pacing: Pacing;
  defaultTokens: number;
  reasoningTokens: number;
  seed: string;
  requireApiKey: boolean | string;
  maxBodyBytes: number;
  models: readonly string[];
}

type Route =
  | { kind: 'chat'; format: StreamFormat; model?: string; stream?: boolean; sse: boolean }
  | { kind: 'models'; format: StreamFormat }
  | { kind: 'model'; id: string }
  | { kind: 'unknown'; format: StreamFormat };

const googlePath =
  /^\/(v1|v1beta|v1alpha)\/models\/([^/]+):(streamGenerateContent|generateContent)$/;
const maxTokensHeader = 10_000_000;

function route(method: string, path: string, req: IncomingMessage): Route {
  if (method === 'POST' && path === '/v1/chat/completions')
    return { kind: 'chat', format: 'openai', sse: true };
  if (method === 'POST' && path === '/v1/messages')
    return { kind: 'chat', format: 'anthropic', sse: true };
  const google = method === 'POST' ? googlePath.exec(path) : null;
  if (google !== null) {
    let model: string;
    try {
      model = decodeURIComponent(google[2] ?? '');
    } catch {
      model = google[2] ?? '';
    }
    return {
      kind: 'chat',
      format: 'google',
      model,
      stream: google[3] === 'streamGenerateContent',
      sse: false,
    };
  }
  if (method === 'GET' && path === '/v1/models') {
    const anthropic =
      req.headers['anthropic-version'] !== undefined || req.headers['x-api-key'] !== undefined;
    return { kind: 'models', format: anthropic ? 'anthropic' : 'openai' };
  }
  if (method === 'GET' && /^\/(v1beta|v1alpha)\/models$/.test(path))
    return { kind: 'models', format: 'google' };
  const model = method === 'GET' ? /^\/v1\/models\/([^/:]+)$/.exec(path) : null;
  if (model !== null) return { kind: 'model', id: model[1] ?? '' };
  return {
    kind: 'unknown',
    format: path.startsWith('/v1beta') || path.startsWith('/v1alpha') ? 'google' : 'openai',
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The ids of one attempt: deterministic from the seed and the attempt number. */
function makeIds(
  format: StreamFormat,
  seed: string,
  attempt: number,
): AnswerIds & { requestId: string } {
  const h = mix(hashString(seed), attempt);
  const hex = (value: number): string => value.toString(16).padStart(8, '0');
  const created = Math.floor(Date.now() / 1000);
  switch (format) {
    case 'openai':
      return {
        response: `chatcmpl-${base62Id(h, 29)}`,
        tool: `call_${base62Id(h ^ 1, 24)}`,
        signature: base62Id(h ^ 2, 64),
        fingerprint: `fp_${`${hex(mix(h, 3))}${hex(mix(h, 8))}`.slice(0, 10)}`,
        created,
        requestId: `req_${hex(mix(h, 4))}${hex(mix(h, 5))}${hex(mix(h, 6))}${hex(mix(h, 7))}`,
      };
    case 'anthropic':
      return {
        response: `msg_01${base62Id(h, 22)}`,
        tool: `toolu_01${base62Id(h ^ 1, 22)}`,
        signature: `Eq${base62Id(h ^ 2, 86)}==`,
        fingerprint: '',
        created,
        requestId: `req_011C${base62Id(h ^ 3, 20)}`,
      };
    case 'google':
      return {
        response: base62Id(h, 23),
        tool: '',
        signature: `Ci${base62Id(h ^ 2, 62)}==`,
        fingerprint: '',
        created,
        requestId: base62Id(h ^ 3, 23),
      };
  }
}

function invalidJsonMessage(format: StreamFormat, error: unknown): string {
  const detail = error instanceof Error ? error.message : String(error);
  switch (format) {
    case 'openai':
      return "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)";
    case 'anthropic':
      return `There was an error parsing the body: ${detail}`;
    case 'google':
      return `Invalid JSON payload received. ${detail}`;
  }
}

/** The API-key check, as each provider answers a missing or wrong key. */
function checkApiKey(
  format: StreamFormat,
  req: IncomingMessage,
  url: URL,
  required: boolean | string,
  facts: ErrorFacts,
  streaming: boolean,
): ErrorResponse | undefined {
  if (required === false) return undefined;
  const matches = (key: string): boolean =>
    typeof required === 'string' ? key === required : key !== '';
  switch (format) {
    case 'openai': {
      const auth = header(req, 'authorization') ?? '';
      const key = /^Bearer\s+(.*)$/i.exec(auth)?.[1]?.trim() ?? '';
      if (key === '') {
        return providerError('openai', 401, {
          ...facts,
          code: null,
          message:
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        });
      }
      return matches(key) ? undefined : providerError('openai', 401, facts);
    }
    case 'anthropic': {
      const key = header(req, 'x-api-key') ?? '';
      if (key === '')
        return providerError('anthropic', 401, {
          ...facts,
          message: 'x-api-key header is required',
        });
      return matches(key) ? undefined : providerError('anthropic', 401, facts);
    }
    case 'google': {
      const key = header(req, 'x-goog-api-key') ?? url.searchParams.get('key') ?? '';
      if (key === '') {
        return providerError(
          'google',
          403,
          {
            ...facts,
            message:
              "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
          },
          streaming,
        );
      }
      if (matches(key)) return undefined;
      return providerError(
        'google',
        400,
        {
          ...facts,
          message: 'API key not valid. Please pass a valid API key.',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'API_KEY_INVALID',
              domain: 'googleapis.com',
              metadata: { service: 'generativelanguage.googleapis.com' },
            },
          ],
        },
        streaming,
      );
    }
  }
}

/** The faults of a request, where they came from, and the key of its stateful faults. */
interface SelectedFaults {
  faults: FaultSpec[];
  source: 'header' | 'model' | 'scenario' | undefined;
  key: string;
}

function selectFaults(
  runtime: SimulatorRuntime,
  req: IncomingMessage,
  request: SimulatedRequest,
  path: string,
): SelectedFaults {
  const explicitKey = header(req, 'x-simulator-key');
  const fromHeader = header(req, 'x-simulator-fault');
  if (fromHeader !== undefined && fromHeader.trim() !== '') {
    const faults = parseFaultSpec(fromHeader);
    return { faults, source: 'header', key: explicitKey ?? formatFaultSpecs(faults) };
  }
  if (request.model.startsWith(faultModelPrefix)) {
    const faults = parseFaultSpec(request.model.slice(faultModelPrefix.length));
    return { faults, source: 'model', key: explicitKey ?? formatFaultSpecs(faults) };
  }
  const scenario = runtime.scenarios.find((s) =>
    s.matches({ model: request.model, path, format: request.format }),
  );
  if (scenario !== undefined) {
    const { faults } = scenario.next();
    return {
      faults,
      source: faults.length > 0 ? 'scenario' : undefined,
      key: explicitKey ?? scenario.name,
    };
  }
  return { faults: [], source: undefined, key: explicitKey ?? '' };
}

function encoderFor(format: StreamFormat, plans: AnswerPlans, ids: AnswerIds): WireEncoder {
  switch (format) {
    case 'openai':
      return openAIWire(plans, ids);
    case 'anthropic':
      // Anthropic has no `n`: one answer.
      return anthropicWire(plans[0], ids);
    case 'google':
      return googleWire(plans, ids);
  }
}

function successHeaders(
  format: StreamFormat,
  stream: boolean,
  sse: boolean,
  ids: { requestId: string },
): OutgoingHttpHeaders {
  switch (format) {
    case 'openai':
      return stream
        ? {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache',
            'x-request-id': ids.requestId,
            'openai-version': '2020-10-01',
            'openai-processing-ms': '1',
          }
        : {
            'content-type': 'application/json',
            'x-request-id': ids.requestId,
            'openai-version': '2020-10-01',
            'openai-processing-ms': '1',
          };
    case 'anthropic':
      return stream
        ? {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache',
            'request-id': ids.requestId,
          }
        : { 'content-type': 'application/json', 'request-id': ids.requestId };
    case 'google':
      return stream && sse
        ? {
            'content-type': 'text/event-stream',
            'content-disposition': 'attachment',
            vary: 'Origin, X-Origin, Referer',
          }
        : { 'content-type': 'application/json; charset=UTF-8', vary: 'Origin, X-Origin, Referer' };
  }
}

function framerFor(format: StreamFormat, sse: boolean): Framer {
  switch (format) {
    case 'openai':
    case 'anthropic':
      return sseFramer('\n', JSON.stringify);
    case 'google':
      return sse ? sseFramer('\r\n', geminiJson) : jsonArrayFramer();
  }
}

/** Handles one HTTP request. Never rejects: failures end the attempt with a 500 or a reset. */
export async function handleRequest(
  runtime: SimulatorRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://simulator.invalid');
  } catch {
    url = new URL('http://simulator.invalid/');
  }
  const method = req.method ?? 'GET';
  const record = runtime.log.start(method, url.pathname);
  const context = new AttemptContext(req, res, record, runtime.log, runtime.now, (c) => {
    runtime.active.delete(c);
  });
  runtime.active.add(context);
  try {
    await respond(runtime, context, url);
  } catch (error) {
    if (context.isAborted()) return;
    if (!res.headersSent) {
      context.sendError(
        providerError(record.format ?? 'openai', 500, {
          requestId: 'req_simulator',
          message: `The simulator failed: ${error instanceof Error ? error.message : String(error)}`,
        }),
      );
    } else {
      context.reset();
    }
  }
}

async function respond(
  runtime: SimulatorRuntime,
  context: AttemptContext,
  url: URL,
): Promise<void> {
  const { req, record } = context;
  const { settings } = runtime;
  const where = route(record.method, url.pathname, req);
  const baseIds = makeIds(
    where.kind === 'chat' ? where.format : 'openai',
    settings.seed,
    record.id,
  );
  const facts: ErrorFacts = { requestId: baseIds.requestId };

  if (where.kind === 'unknown') {
    record.format = where.format;
    req.resume();
    context.sendError(
      providerError(where.format, 404, {
        ...facts,
        code: where.format === 'openai' ? 'unknown_url' : undefined,
        message: `Unknown request URL: ${record.method} ${url.pathname}. The simulator serves POST /v1/chat/completions, POST /v1/messages, POST /v1beta/models/{model}:streamGenerateContent?alt=sse and :generateContent, and GET /v1/models.`,
      }),
    );
    return;
  }
  if (where.kind === 'models' || where.kind === 'model') {
    record.endpoint = 'models';
    record.format = where.kind === 'models' ? where.format : 'openai';
    req.resume();
    sendModels(context, where, settings.models);
    return;
  }

  const { format } = where;
  record.format = format;
  record.endpoint = 'chat';
  record.model = where.model;
  const streamingUrl = where.stream === true;
  const keyError = checkApiKey(format, req, url, settings.requireApiKey, facts, streamingUrl);
  if (keyError !== undefined) {
    req.resume();
    context.sendError(keyError);
    return;
  }

  const read = await readRequestBody(req, settings.maxBodyBytes);
  if (read.kind === 'closed' || context.isAborted()) return;
  if (read.kind === 'too-large') {
    res413(context, format, facts, read.limit, streamingUrl);
    return;
  }
  let json: unknown;
  try {
    json = JSON.parse(read.body.toString('utf8'));
  } catch (error) {
    context.sendError(
      providerError(
        format,
        400,
        { ...facts, message: invalidJsonMessage(format, error) },
        streamingUrl,
      ),
    );
    return;
  }
  let request: SimulatedRequest;
  try {
    request = readSimulatedRequest(format, json, {
      ...(where.model === undefined ? {} : { model: where.model }),
      ...(where.stream === undefined ? {} : { stream: where.stream }),
    });
  } catch (error) {
    if (!(error instanceof SimulatedRequestError)) throw error;
    context.sendError(
      providerError(
        format,
        400,
        { ...facts, message: error.message, param: error.param },
        streamingUrl,
      ),
    );
    return;
  }
  record.model = request.model;
  record.stream = request.stream;
  facts.model = request.model;

  const tokensHeader = header(req, 'x-simulator-tokens')?.trim();
  let tokens: number | undefined;
  if (tokensHeader !== undefined && tokensHeader !== '') {
    tokens = Number(tokensHeader);
    if (!Number.isInteger(tokens) || tokens < 0 || tokens > maxTokensHeader) {
      context.sendError(
        providerError(
          format,
          400,
          {
            ...facts,
            message: `x-simulator-tokens must be an integer from 0 to ${maxTokensHeader}; got ${JSON.stringify(tokensHeader)}.`,
            param: 'x-simulator-tokens',
          },
          request.stream,
        ),
      );
      return;
    }
  }

  let selected: SelectedFaults;
  try {
    selected = selectFaults(runtime, req, request, url.pathname);
  } catch (error) {
    if (!(error instanceof FaultSpecError)) throw error;
    record.fault = error.spec;
    context.sendError(
      providerError(
        format,
        400,
        { ...facts, message: error.message, param: 'x-simulator-fault' },
        request.stream,
      ),
    );
    return;
  }
  const { faults } = selected;
  if (faults.length > 0) {
    record.fault = formatFaultSpecs(faults);
    record.faultSource = selected.source;
    record.faultKey = selected.key;
  }

  const plans = planChoices(request, {
    tokens,
    defaultTokens: settings.defaultTokens,
    reasoningTokens: settings.reasoningTokens,
    seed: settings.seed,
  });
  record.promptTokens = plans[0].promptTokens;
  context.touch();

  // Before the headers: latency and stalls.
  if (settings.latencyMs > 0) await context.stall('headers', settings.latencyMs);
  for (const fault of faults) {
    if (fault.type === 'stall-headers') await context.stall('headers', fault.ms);
  }
  if (context.isAborted()) return;

  // Faults that answer instead of the model.
  const errorAnswer = (status: number, extra: Partial<ErrorFacts> = {}): void => {
    context.sendError(providerError(format, status, { ...facts, ...extra }, request.stream));
  };
  if (request.prefill !== undefined && faults.some((fault) => fault.type === 'reject-prefill')) {
    errorAnswer(400, {
      message:
        format === 'google'
          ? 'Please ensure that multiturn requests end with a user role or a function response.'
          : 'This model does not support assistant message prefill. The conversation must end with a user message.',
      param: 'messages',
    });
    return;
  }
  for (const fault of faults) {
    if (fault.type === 'flap') {
      // Arrival times, so the window does not depend on how long bodies take to read.
      const first = runtime.flapFirstHit.get(selected.key) ?? record.time;
      runtime.flapFirstHit.set(selected.key, first);
      if (record.time - first < fault.ms) {
        errorAnswer(503);
        return;
      }
    } else if (fault.type === 'succeed-on') {
      const attempt = (runtime.faultAttempts.get(selected.key) ?? 0) + 1;
      runtime.faultAttempts.set(selected.key, attempt);
      if (attempt < fault.attempt) {
        errorAnswer(503);
        return;
      }
    }
  }
  const status = faults.find((fault) => fault.type === 'status');
  if (status !== undefined) {
    errorAnswer(status.status, { retryAfterMs: status.retryAfterMs, retryInMs: status.retryInMs });
    return;
  }
  if (faults.some((fault) => fault.type === 'reset-before-headers')) {
    context.reset();
    return;
  }

  const ids = makeIds(format, settings.seed, record.id);
  const encoder = encoderFor(format, plans, ids);
  const drip = faults.find((fault) => fault.type === 'slow-drip');
  if (drip !== undefined) context.setDrip({ bytes: drip.bytes, ms: drip.ms });
  const headers = successHeaders(
    format,
    request.stream,
    where.sse || url.searchParams.get('alt') === 'sse',
    ids,
  );
  if (request.stream) {
    const sse = format !== 'google' || url.searchParams.get('alt') === 'sse';
    await streamAnswer(context, encoder, framerFor(format, sse), headers, faults, settings.pacing);
  } else {
    await jsonAnswer(context, encoder, plans, headers, faults, settings.pacing, ids.requestId);
  }
}

function res413(
  context: AttemptContext,
  format: StreamFormat,
  facts: ErrorFacts,
  limit: number,
  streaming: boolean,
): void {
  const error = providerError(
    format,
    413,
    {
      ...facts,
      message: `Request exceeds the simulator's limit of ${limit} bytes (maxBodyBytes).`,
    },
    streaming,
  );
  context.sendError({ ...error, headers: { ...error.headers, connection: 'close' } });
}

function sendModels(
  context: AttemptContext,
  where: { kind: 'models'; format: StreamFormat } | { kind: 'model'; id: string },
  models: readonly string[],
): void {
  let body: string;
  let contentType = 'application/json';
  if (where.kind === 'model') {
    body = JSON.stringify({
      id: where.id,
      object: 'model',
      created: 1735689600,
      owned_by: 'rx-llm-router-simulator',
    });
  } else if (where.format === 'openai') {
    body = JSON.stringify({
      object: 'list',
      data: models.map((id) => ({
        id,
        object: 'model',
        created: 1735689600,
        owned_by: 'rx-llm-router-simulator',
      })),
    });
  } else if (where.format === 'anthropic') {
    body = JSON.stringify({
      data: models.map((id) => ({
        type: 'model',
        id,
        display_name: id,
        created_at: '2025-01-01T00:00:00Z',
      })),
      has_more: false,
      first_id: models[0] ?? null,
      last_id: models[models.length - 1] ?? null,
    });
  } else {
    contentType = 'application/json; charset=UTF-8';
    body = `${JSON.stringify(
      {
        models: models.map((id) => ({
          name: `models/${id}`,
          version: '001',
          displayName: id,
          inputTokenLimit: 1048576,
          outputTokenLimit: 65536,
          supportedGenerationMethods: ['generateContent', 'streamGenerateContent'],
        })),
      },
      null,
      2,
    )}\n`;
  }
  const bytes = Buffer.from(body, 'utf8');
  context.writeHead(200, { 'content-type': contentType, 'content-length': bytes.length }, false);
  context.end('completed', bytes);
}
