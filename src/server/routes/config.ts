import type { FastifyPluginAsync } from 'fastify';
import { ConfigError } from '../../config/config-error.js';
import type { ConfigHolder } from '../../config/config-holder.js';
import { ApiError } from '../errors.js';

export interface ConfigRoutesOptions {
  holder: ConfigHolder;
}

/**
 * `GET /config` (role read): the summary of the config in force (file, generation, loadedAt, counts,
 * monitors added/removed/changed by its load). `POST /config/reload` (role operate): reload the file;
 * 200 with the new summary, 400 `{error: 'bad_request', message: 'file:line:column: ...'}` when the file
 * is invalid, the running config untouched.
 */
export const configRoutes: FastifyPluginAsync<ConfigRoutesOptions> = async (app, { holder }) => {
  app.get('/config', { config: { role: 'read' } }, async () => holder.summary);

  app.post('/config/reload', { config: { role: 'operate' } }, async (req) => {
    try {
      const summary = await holder.reload();
      req.log.info({ summary }, 'config reloaded');
      return summary;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      req.log.warn({ err: err.message }, 'config reload rejected; the running config is unchanged');
      throw new ApiError('bad_request', err.message, { cause: err });
    }
  });
};
