/**
 * Exit statuses of the command-line contract (70, EX_SOFTWARE, is for a fault of fleetprobe itself;
 * 141 = 128 + SIGPIPE, what a shell reports for a tool whose reader went away, as in `| head`).
 */
export const EXIT = {
  ok: 0,
  notAllPassed: 1,
  usage: 2,
  internal: 70,
  interrupted: 130,
  outputClosed: 141,
} as const;
