import type { Logger } from 'pino';
import type { ConfigHolder } from '../config/config-holder.js';

/**
 * `server --config`: reloads the file on SIGHUP, logging the summary or why the file was rejected (the
 * running config stays). Install it once the server is listening; the returned function removes it.
 */
export function reloadOnSighup(holder: ConfigHolder, log: Logger): () => void {
  const onHup = () => {
    holder.reload().then(
      (summary) => log.info({ summary, signal: 'SIGHUP' }, 'config reloaded'),
      (err: unknown) =>
        log.error(
          { err: err instanceof Error ? err.message : String(err), signal: 'SIGHUP' },
          'config reload rejected; the running config is unchanged',
        ),
    );
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}
