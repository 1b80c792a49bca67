import { Command } from 'commander';

/** `fax-sunset emulator`: placeholder until the emulator lands (issue 2). */
export function emulatorCommand(): Command {
  return new Command('emulator').description('Run the local Twilio emulator (Fax API, numbers, media host, inbound fax flow)');
}
