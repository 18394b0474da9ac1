import type { Command } from 'commander';
import { register as agent } from './agent';
import { register as attachments } from './attachments';
import { register as bench } from './bench';
import { register as clusters } from './clusters';
import { register as codec } from './codec';
import { register as demo } from './demo';
import { register as dev } from './dev';
import { register as hostNetworks } from './host-networks';
import { register as hosts } from './hosts';
import { register as installHost } from './install-host';
import { register as networks } from './networks';
import { register as schema } from './schema';
import { register as status } from './status';
import { register as worker } from './worker';
import { register as testbed } from './testbed';

/** Sub-commands in help order. Each module exports `register(program)`. */
export const commands: Array<(program: Command) => void> = [
  demo,
  dev,
  worker,
  installHost,
  networks,
  clusters,
  hosts,
  attachments,
  hostNetworks,
  status,
  codec,
  agent,
  testbed,
  schema,
  bench,
];
