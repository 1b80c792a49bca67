/**
 * Who started a run and where: the operating-system user and the host name, recorded in each run's
 * options when it starts so the report's run history says who ran what on which machine (an
 * auditor's first question; issue 17). A container without a passwd entry for its uid still has a
 * uid: that is recorded then.
 */
import { hostname, userInfo } from 'node:os';

export interface RunIdentity {
  user: string;
  host: string;
}

export function runIdentity(): RunIdentity {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.LOGNAME ?? (typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'unknown');
  }
  return { user, host: hostname() };
}
