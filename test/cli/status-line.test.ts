import { createStatusLine, type StatusStream } from '../../src/cli/status-line';

function fakeStream(tty: boolean, columns = 80): StatusStream & { out: string } {
  const stream = {
    out: '',
    isTTY: tty,
    columns,
    write(text: string) {
      stream.out += text;
      return true;
    },
  };
  return stream;
}

const ESC = '\u001b';

describe('createStatusLine', () => {
  it('should draw nothing live when the stream is not a TTY, then one final line', () => {
    const stream = fakeStream(false);
    const line = createStatusLine({ stream, sharesTerminal: false, now: () => 0 });
    expect(line.live).toBe(false);
    line.update('a', true);
    line.clear();
    line.finish('openai/gpt-4o-mini · 3 tokens');
    expect(stream.out).toBe('openai/gpt-4o-mini · 3 tokens\n');
  });

  it('should rewrite one line in place on a TTY of its own, at most once per interval', () => {
    const stream = fakeStream(true);
    let t = 0;
    const line = createStatusLine({ stream, sharesTerminal: false, now: () => t, intervalMs: 100 });
    line.update('one');
    t = 50;
    line.update('skipped');
    t = 120;
    line.update('two');
    line.finish('done');
    expect(stream.out).toBe(`\r${ESC}[2Kone\r${ESC}[2Ktwo\r${ESC}[2Kdone\n`);
  });

  it('should draw below the text with the cursor saved and restored on a shared terminal', () => {
    const stream = fakeStream(true);
    const line = createStatusLine({ stream, sharesTerminal: true, now: () => 0 });
    line.update('status', true);
    expect(stream.out).toBe(`${ESC}D${ESC}[1A${ESC}7${ESC}D\r${ESC}[2Kstatus${ESC}8`);
    stream.out = '';
    line.clear();
    expect(stream.out).toBe(`${ESC}7${ESC}D\r${ESC}[2K${ESC}8`);
    stream.out = '';
    line.clear(); // nothing shown: nothing to erase
    expect(stream.out).toBe('');
  });

  it('should cut a live line to the terminal width so it never wraps, but not the final line', () => {
    const stream = fakeStream(true, 30);
    const line = createStatusLine({ stream, sharesTerminal: false, now: () => 0 });
    line.update(`${'x'.repeat(99)}🌊`, true);
    expect(stream.out).toBe(`\r${ESC}[2K${'x'.repeat(28)}…`);
    stream.out = '';
    line.finish('y'.repeat(100));
    expect(stream.out).toBe(`\r${ESC}[2K${'y'.repeat(100)}\n`);
  });

  it('should assume 80 columns when the terminal reports none', () => {
    const stream = fakeStream(true, 0);
    const line = createStatusLine({ stream, sharesTerminal: false, now: () => 0 });
    line.update('z'.repeat(200), true);
    expect(stream.out).toBe(`\r${ESC}[2K${'z'.repeat(78)}…`);
  });
});
