/** A stream the status line writes to: stderr, or a fake in tests. */
export interface StatusStream {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

/** Options of {@link createStatusLine}. */
export interface StatusLineOptions {
  /** Where the status goes (stderr). Live only when it is a TTY. */
  stream: StatusStream;
  /**
   * Whether the answer's text streams to the same terminal (stdout is a TTY too). Then the status
   * is drawn on the line below the text and the text keeps its place; otherwise it is one line
   * rewritten in place.
   */
  sharesTerminal: boolean;
  /** The clock, ms. Default `performance.now()`. */
  now?: () => number;
  /** Redraws at most this often, ms. Default 100. */
  intervalMs?: number;
}

/** A status line: live on a terminal, one final line elsewhere. */
export interface StatusLine {
  /** Whether updates are drawn (the stream is a TTY). */
  readonly live: boolean;
  /** Draws `text` if the last draw is old enough (or `force`). No-op when not live. */
  update(text: string, force?: boolean): void;
  /** Erases the live line (call before writing text to the shared terminal). */
  clear(): void;
  /** Erases the live line and writes `text` (whole) as the final line, with a newline. */
  finish(text: string): void;
}

// VT100: IND (down one line, scrolling at the bottom, same column), CUU, DECSC, DECRC, EL.
const IND = '\u001bD';
const UP = '\u001b[1A';
const SAVE = '\u001b7';
const RESTORE = '\u001b8';
const ERASE_LINE = '\r\u001b[2K';

const segmenter = new Intl.Segmenter();

/**
 * The live status line of `chat` (on stderr).
 *
 * 1. Not a TTY: nothing is drawn until {@link StatusLine.finish}, which writes one line.
 * 2. A TTY of its own (stdout piped): one line, erased and rewritten in place.
 * 3. A terminal shared with the streamed text: drawn on the line below the text, with the cursor
 *    saved and restored, so the text continues where it was. A line is made below first (IND,
 *    which scrolls at the bottom of the screen without moving the cursor's column), so the
 *    restore lands on the text even after a scroll.
 *
 * Live lines are cut to the terminal's width, so they never wrap; the final line is whole.
 */
export function createStatusLine(options: StatusLineOptions): StatusLine {
  const { stream, sharesTerminal, now = () => performance.now(), intervalMs = 100 } = options;
  const live = stream.isTTY === true;
  let shown = false;
  let lastDraw = Number.NEGATIVE_INFINITY;
  const fit = (text: string): string => {
    const columns = stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80;
    const width = Math.max(20, columns - 1);
    const graphemes = Array.from(segmenter.segment(text), (s) => s.segment);
    return graphemes.length <= width ? text : `${graphemes.slice(0, width - 1).join('')}…`;
  };
  const clear = (): void => {
    if (!shown) return;
    stream.write(sharesTerminal ? `${SAVE}${IND}${ERASE_LINE}${RESTORE}` : ERASE_LINE);
    shown = false;
  };
  return {
    live,
    update(text, force = false) {
      if (!live) return;
      const t = now();
      if (!force && t - lastDraw < intervalMs) return;
      lastDraw = t;
      const line = fit(text);
      stream.write(
        sharesTerminal
          ? `${IND}${UP}${SAVE}${IND}${ERASE_LINE}${line}${RESTORE}`
          : `${ERASE_LINE}${line}`,
      );
      shown = true;
    },
    clear,
    finish(text) {
      clear();
      stream.write(`${text}\n`);
    },
  };
}
