import { describe, expect, it } from 'vitest';
import { describeHopEvent, printable } from '../../lib/core/errors.js';

describe('how answers and log lines name an event', () => {
  it('names an event by its id and name, as Hop sends them', () => {
    expect(
      describeHopEvent({ id: 'event_MTkzMDU5MTE4NzcyNDA0MjI3', event: 'project.updated' }),
    ).toBe('Hop event event_MTkzMDU5MTE4NzcyNDA0MjI3 (project.updated)');
  });

  it('writes every character but visible ASCII, and the backslash, as an escape', () => {
    expect(printable('a\nb c\\d\u001b[31m\u2026é')).toBe(
      String.raw`a\u{a}b\u{20}c\u{5c}d\u{1b}[31m\u{2026}\u{e9}`,
    );
  });

  it('cuts after 64 characters, marking the cut', () => {
    expect(printable('x'.repeat(64))).toBe('x'.repeat(64));
    expect(printable('x'.repeat(65))).toBe(`${'x'.repeat(64)}…`);
    expect(printable('x'.repeat(300_000))).toBe(`${'x'.repeat(64)}…`);
  });

  it('counts a character outside the BMP as one, and never cuts it in half', () => {
    expect(printable(`${'a'.repeat(63)}😀b`)).toBe(String.raw`${'a'.repeat(63)}\u{1f600}…`);
    expect(printable('😀'.repeat(64))).toBe(String.raw`\u{1f600}`.repeat(64));
    expect(printable('😀'.repeat(65))).toBe(`${String.raw`\u{1f600}`.repeat(64)}…`);
  });
});
