/** The `run` command's option values as commander hands them over (strings: parsed and checked by `runAction`). */
export interface RunFlags {
  targetsFile: string[];
  resolve: string[];
  resolver?: string;
  arg: string[];
  argsJson?: string;
  concurrency: string;
  timeout?: string;
  retries: string;
  rate?: string;
  output?: string;
  db?: string;
  checkModule?: string;
  searchIndex?: string;
  searchIndexName?: string;
  progress: boolean;
  threads?: string;
}
