import { z } from 'zod';

/**
 * A check argument holding a regular expression: a string compiled with `new RegExp(source)`, or a
 * `/source/flags` literal form. An invalid pattern fails validation with the pattern in the message.
 */
export const regexArg = z.string().transform((source, ctx) => {
  const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(source);
  try {
    return literal ? new RegExp(literal[1]!, literal[2]) : new RegExp(source);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid regular expression ${JSON.stringify(source)}: ${String(err)}`,
    });
    return z.NEVER;
  }
});
