/** Exit statuses of the command-line contract (70, EX_SOFTWARE, is for a fault of fleetprobe itself). */
export const EXIT = { ok: 0, notAllPassed: 1, usage: 2, internal: 70, interrupted: 130 } as const;
