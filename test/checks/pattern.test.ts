import { describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { dnsArgs } from '../../src/checks/dns/index.js';
import { httpArgs } from '../../src/checks/http/index.js';
import { compilePattern, Pattern } from '../../src/checks/pattern.js';
import { sshArgs } from '../../src/checks/ssh/index.js';
import { validateCheckArgs } from '../../src/checks/validate-args.js';
import { argsToWire } from '../../src/distributed/messages.js';

describe('compilePattern (RE2)', () => {
  it('matches anywhere, with /source/flags literals and their i, m, s flags', () => {
    const p = compilePattern('^ok') as Pattern;
    expect(p).toBeInstanceOf(Pattern);
    expect([p.test('ok then'), p.test('not ok')]).toEqual([true, false]);
    expect((compilePattern('/^OK$/i') as Pattern).test('ok')).toBe(true);
    expect((compilePattern('/^b$/m') as Pattern).test('a\nb\nc')).toBe(true);
    expect((compilePattern('/a.b/s') as Pattern).test('a\nb')).toBe(true);
    expect((compilePattern('^b$', { multiline: true }) as Pattern).test('a\nb')).toBe(true);
    expect(String(compilePattern('/x/gi'))).toBe('/x/i');
  });

  it('refuses what RE2 cannot do in linear time, with a one-line reason naming the pattern', () => {
    for (const bad of ['(a)\\1', '(?=x)', '(?!x)', 'a{1001}', '[', '/x/q']) {
      const reason = compilePattern(bad);
      expect(typeof reason, bad).toBe('string');
      expect(reason).toContain(JSON.stringify(bad));
    }
  });

  it('is linear: ^(a+)+$ against 1 MB answers in one pass', () => {
    const p = compilePattern('^(a+)+$') as Pattern;
    expect(p.test(`${'a'.repeat(1 << 20)}!`)).toBe(false);
  });

  it('travels as the text the caller wrote (to workers and back)', () => {
    const args = httpArgs.parse({ expectBody: '/^OK/i' });
    const wire = argsToWire(args) as Record<string, unknown>;
    expect(wire.expectBody).toBe('/^OK/i');
    expect(String(httpArgs.parse(wire).expectBody)).toBe('/^OK/i');
    const ssh = sshArgs.parse({ expectStdout: '^up$' });
    expect(sshArgs.parse(argsToWire(ssh)).expectStdout?.test('load\nup\n')).toBe(true);
    expect(dnsArgs.parse({ expect: '/^10\\./' }).expect).toMatchObject({ kind: 'pattern' });
  });
});

describe('argRoles: every argument a built-in check declares a pattern is compiled by RE2', () => {
  for (const check of createBuiltinRegistry().list()) {
    const patterns = Object.entries(check.argRoles ?? {}).filter(([, role]) => role === 'pattern');
    for (const [arg] of patterns) {
      it(`${check.name}.${arg}`, () => {
        // A backreference is valid JavaScript but not RE2: only the RE2 helper refuses it.
        expect(() => validateCheckArgs(check, { [arg]: '/(a)\\1/' })).toThrow(/invalid pattern/);
      });
    }
  }

  it('the roles name real arguments of their check', () => {
    for (const check of createBuiltinRegistry().list()) {
      const known = Object.keys((check.args as unknown as { shape: object }).shape);
      for (const arg of Object.keys(check.argRoles ?? {}))
        expect(known, `${check.name}.${arg}`).toContain(arg);
    }
  });
});

describe('CheckRegistry refuses a check declaring an unknown role', () => {
  it('names the check, the argument and the role', () => {
    const registry = createBuiltinRegistry();
    const check = { ...createBuiltinRegistry().get('tcp'), name: 'odd', argRoles: { port: 'file' } };
    expect(() => registry.register(check as never)).toThrow(
      /check "odd": argument "port" has an unknown role "file"/,
    );
  });
});
