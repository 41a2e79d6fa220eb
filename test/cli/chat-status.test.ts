import {
  applyChunk,
  applySession,
  createChatStatus,
  formatChatStatus,
  formatUsd,
} from '../../src/cli/chat-status';
import type { SessionInfo } from '../../src/sessions/session-info';
import { textChunk, finishChunk, usageChunk } from '../../src/testing/chunk-builders';

const session = (over: Partial<SessionInfo>): SessionInfo => ({
  id: 's',
  requestedModel: 'fast',
  route: 'fast',
  candidate: 'openai/gpt-4o-mini',
  provider: 'openai',
  model: 'gpt-4o-mini',
  state: 'streaming',
  startedAt: 0,
  endedAt: undefined,
  ttftMs: 10,
  chunks: 3,
  completionTokens: 3,
  costUsd: 0.0000123,
  estimated: true,
  usage: undefined,
  attempts: 1,
  retries: 0,
  failovers: 0,
  lastError: undefined,
  viewers: 1,
  ...over,
});

describe('chat status', () => {
  it('should say it is waiting before the first token, and "no answer" at the end', () => {
    const status = createChatStatus(0);
    expect(formatChatStatus(status, 50)).toBe('waiting for the first token · 0 tokens');
    expect(formatChatStatus(status, 1500, { final: true })).toBe('no answer · 0 tokens in 1.50 s');
  });

  it('should count content chunks, then take the usage count, and compute tokens per second', () => {
    const status = createChatStatus(0);
    applyChunk(status, textChunk('Hel', { provider: 'openai', model: 'gpt-4o-mini' }), 100);
    applyChunk(status, textChunk('lo', { provider: 'openai', model: 'gpt-4o-mini' }), 600);
    expect(formatChatStatus(status, 1100)).toBe('openai/gpt-4o-mini · ~2 tokens · 2.0 tok/s');
    applyChunk(status, finishChunk('stop', { provider: 'openai', model: 'gpt-4o-mini' }), 650);
    applyChunk(
      status,
      usageChunk({ prompt: 5, completion: 4 }, { provider: 'openai', model: 'gpt-4o-mini' }),
      700,
    );
    // Final: tokens over the span from the first to the last content chunk (0.5 s).
    expect(formatChatStatus(status, 2000, { final: true })).toBe(
      'openai/gpt-4o-mini · 4 tokens in 2.00 s · 8.0 tok/s',
    );
  });

  it('should note a change of provider after content as a failover', () => {
    const status = createChatStatus(0);
    applyChunk(status, textChunk('a', { provider: 'openai', model: 'm1' }), 10);
    applyChunk(status, textChunk('b', { provider: 'anthropic', model: 'm2' }), 20);
    applyChunk(status, textChunk('c', { provider: 'anthropic', model: 'm2' }), 30);
    expect(status.failovers).toEqual([{ from: 'openai/m1', to: 'anthropic/m2' }]);
    expect(formatChatStatus(status, 40)).toContain('1 failover: openai/m1 → anthropic/m2');
  });

  it('should take tokens, cost, failovers and retries from the router session', () => {
    const status = createChatStatus(0);
    status.failovers.push({
      from: 'openai/a',
      to: 'anthropic/b',
      reason: 'RXLLM_INCOMPLETE_STREAM',
    });
    applySession(
      status,
      session({
        provider: 'anthropic',
        model: 'b',
        completionTokens: 27.5,
        costUsd: 0.5,
        estimated: false,
        failovers: 1,
        retries: 2,
      }),
    );
    expect(formatChatStatus(status, 10)).toBe(
      'anthropic/b · 28 tokens · $0.500000 · 1 failover: openai/a → anthropic/b (RXLLM_INCOMPLETE_STREAM) · 2 retries',
    );
  });

  it('should mark estimates and unpriced models', () => {
    const status = createChatStatus(0);
    applySession(status, session({ costUsd: 0.0000123 }));
    expect(formatChatStatus(status, 10)).toBe('openai/gpt-4o-mini · ~3 tokens · ~$0.000012');
    applySession(status, session({ costUsd: null, estimated: false }));
    expect(formatChatStatus(status, 10)).toBe(
      'openai/gpt-4o-mini · 3 tokens · cost unknown (unpriced model)',
    );
  });

  it('should format dollars with six decimals under one dollar', () => {
    expect(formatUsd(0.0000144)).toBe('$0.000014');
    expect(formatUsd(1.23456)).toBe('$1.2346');
  });
});
