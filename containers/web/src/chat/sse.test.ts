import { describe, expect, it } from 'vitest';
import { readEventStream, SseParser, type SseMessage } from './sse';

describe('SseParser', () => {
  it('parses named events with JSON data', () => {
    const parser = new SseParser();
    const messages = parser.push(
      'event: start\ndata: {"message_id":2,"offline":true}\n\nevent: text\ndata: {"text":"Hi"}\n\n',
    );
    expect(messages).toEqual([
      { event: 'start', data: '{"message_id":2,"offline":true}' },
      { event: 'text', data: '{"text":"Hi"}' },
    ]);
  });

  it('joins an event split anywhere across chunks', () => {
    const stream = 'event: text\ndata: {"text":"a b"}\n\nevent: done\ndata: {"cost_usd":0}\n\n';
    for (let cut = 1; cut < stream.length; cut += 1) {
      const parser = new SseParser();
      const messages = [...parser.push(stream.slice(0, cut)), ...parser.push(stream.slice(cut))];
      expect(messages.map((m) => m.event)).toEqual(['text', 'done']);
      expect(messages[0].data).toBe('{"text":"a b"}');
    }
  });

  it('accepts CRLF and CR line ends, even a CRLF split between chunks', () => {
    const parser = new SseParser();
    const messages = [
      ...parser.push('event: a\r\ndata: 1\r'),
      ...parser.push('\n\r\nevent: b\rdata: 2\r\r'),
    ];
    expect(messages).toEqual([
      { event: 'a', data: '1' },
      { event: 'b', data: '2' },
    ]);
  });

  it('joins multi-line data, skips comments and defaults the name', () => {
    const parser = new SseParser();
    const messages = parser.push(': keep-alive\n\ndata: line one\ndata:line two\nid: 7\n\n');
    expect(messages).toEqual([{ event: 'message', data: 'line one\nline two', id: '7' }]);
  });

  it('drops an event the stream cut off before its blank line', () => {
    const parser = new SseParser();
    expect(parser.push('event: text\ndata: {"text":"partial"}\n')).toEqual([]);
    expect(parser.end()).toEqual([]);
  });
});

describe('readEventStream', () => {
  it('decodes multi-byte characters split between network chunks', async () => {
    const bytes = new TextEncoder().encode('event: text\ndata: {"text":"€ 5"}\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 20)); // cuts the euro sign's three bytes
        controller.enqueue(bytes.slice(20));
        controller.close();
      },
    });
    const seen: SseMessage[] = [];
    await readEventStream(body, (message) => seen.push(message));
    expect(seen).toEqual([{ event: 'text', data: '{"text":"€ 5"}' }]);
  });
});
