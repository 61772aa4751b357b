/** What a simulated command does: output and exit status, or a sleep. */
export type SimCommand =
  | { readonly kind: 'run'; readonly stdout: string; readonly stderr: string; readonly exitCode: number }
  | { readonly kind: 'sleep'; readonly ms: number };

/** Longest `sleep N` honoured (seconds): the sim must never hold a channel for hours. */
const MAX_SLEEP_S = 3600;

/**
 * The sim's tiny shell: `true`, `false`, `echo ARGS`, `uname -a`, `sleep N`, `exit N`,
 * `cat /etc/hostname`; anything else exits 127 with "not found" on stderr. A `sh -c '...'` /
 * `/bin/sh -c "..."` wrapper (as ansible and some tools send) is unwrapped first. Host `index` names the
 * host (`h<index>`).
 */
export function parseSimCommand(line: string, index: number): SimCommand {
  const words = splitWords(line.trim());
  if ((words[0] === 'sh' || words[0] === '/bin/sh' || words[0] === 'bash') && words[1] === '-c' && words[2]) {
    return parseSimCommand(words[2], index);
  }
  const [cmd, ...rest] = words;
  const run = (stdout: string, exitCode = 0, stderr = ''): SimCommand => ({
    kind: 'run',
    stdout,
    stderr,
    exitCode,
  });
  switch (cmd) {
    case undefined:
    case 'true':
    case ':':
      return run('');
    case 'false':
      return run('', 1);
    case 'echo':
      return run(`${rest.join(' ')}\n`);
    case 'uname':
      return run(rest[0] === '-a' ? `Linux h${index} 6.1.0-sim x86_64 GNU/Linux\n` : 'Linux\n');
    case 'sleep': {
      const s = Number(rest[0]);
      if (!Number.isFinite(s) || s < 0) return run('', 1, 'sleep: invalid time interval\n');
      return { kind: 'sleep', ms: Math.min(s, MAX_SLEEP_S) * 1000 };
    }
    case 'exit': {
      const n = rest[0] === undefined ? 0 : Number(rest[0]);
      return run('', Number.isInteger(n) ? ((n % 256) + 256) % 256 : 2);
    }
    case 'cat':
      if (rest[0] === '/etc/hostname') return run(`h${index}\n`);
      return run('', 1, `cat: ${rest[0] ?? ''}: No such file or directory\n`);
    default:
      return run('', 127, `sh: 1: ${cmd}: not found\n`);
  }
}

/** Splits on blanks, honouring single and double quotes (no escapes beyond `\"` in double quotes). */
function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && s[i + 1] === '"') cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}
