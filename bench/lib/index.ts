export {
  benchArgs,
  benchIntList,
  benchName,
  benchNumber,
  benchUsageError,
  PG_FLAGS,
  pgUrlOf,
} from './args.js';
export { CLI, clientOverloadLine, cliHasOption, countOf, ensureBuilt, ROOT, summaryLine } from './cli.js';
export { formatMachineInfo, type MachineInfo, machineInfo } from './machine.js';
export { type Measured, type MeasureOptions, measureChild } from './measure.js';
export { freePort, loopbackHost, waitForListener } from './net.js';
export { NGINX_BIN, type Nginx, type NginxOptions, nginxAvailable, startNginx } from './nginx.js';
export {
  mainThreadCpuSeconds,
  processAndReapedCpuSeconds,
  processCpuSeconds,
  processTreeCpuSeconds,
} from './proc-cpu.js';
export { type Column, formatCount, formatFixed, formatTable } from './table.js';
