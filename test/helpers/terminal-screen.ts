/**
 * A minimal terminal for tests: replays what a program wrote to a terminal (stdout and stderr
 * interleaved, as a pseudo-terminal receives them) and returns the lines as they would end up on the
 * screen. It understands what fleetprobe writes: printable text, `\n`, `\r`, erase-line `ESC[2K` and SGR
 * colours `ESC[...m` (dropped); any other escape sequence is dropped too. Lines never wrap.
 */
export function renderScreen(bytes: string): string[] {
  const lines: string[] = [];
  let line: string[] = [];
  let col = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === '\n') {
      lines.push(line.join('').trimEnd());
      line = [];
      col = 0;
    } else if (c === '\r') {
      col = 0;
    } else if (c === '\u001b' && bytes[i + 1] === '[') {
      let j = i + 2;
      while (j < bytes.length && !/[A-Za-z]/.test(bytes[j]!)) j++;
      const seq = bytes.slice(i + 2, j + 1);
      if (seq === '2K') line = [];
      i = j;
    } else if (c >= ' ' || c === '\t') {
      while (line.length < col) line.push(' ');
      line[col++] = c;
    }
  }
  if (line.length > 0) lines.push(line.join('').trimEnd());
  return lines;
}
