/**
 * Which DHCP clients the agent started and how (table, default route, source routing): the planner needs
 * the full spec to decide whether a client must be restarted. Kept in the runtime dir — clients do not
 * survive a reboot — and intersected with the clients actually alive.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Plan } from '../../model/net-state';
import { DhcpClientSpecSchema } from '../../model/network/config-schema';
import type { DhcpClientSpec } from '../../model/network/desired-state';
import type { NetworkBackend } from '../backend/backend';
import { Durability, writeFileAtomic } from '../persistence/config-store';

const Specs = z.array(DhcpClientSpecSchema);

export class DhcpRegistry {
  private readonly file: string;

  constructor(
    runtimeDir: string,
    private readonly backend: NetworkBackend,
  ) {
    this.file = join(runtimeDir, 'dhcp-clients.json');
  }

  private load(): DhcpClientSpec[] {
    if (!existsSync(this.file)) return [];
    try {
      return Specs.parse(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch {
      return [];
    }
  }

  /** Specs of our clients that are alive now. */
  async running(): Promise<DhcpClientSpec[]> {
    const alive = await this.backend.dhcpClients();
    return this.load().filter((s) => alive.some((a) => a.dev === s.dev && a.family === s.family));
  }

  /** Updates the registry after `plan` ran: started clients added, stopped ones removed. */
  async record(plan: Plan): Promise<void> {
    if (!plan.ops.some((op) => op.kind === 'dhcp-start' || op.kind === 'dhcp-stop')) return;
    let specs = this.load();
    for (const op of plan.ops) {
      if (op.kind === 'dhcp-stop') specs = specs.filter((s) => !(s.dev === op.dev && s.family === op.family));
      if (op.kind === 'dhcp-start') {
        specs = specs.filter((s) => !(s.dev === op.dev && s.family === op.family));
        specs.push({ dev: op.dev, family: op.family, table: op.table, defaultRoute: op.defaultRoute, sourceRouting: op.sourceRouting });
      }
    }
    // The runtime dir is emptied at boot, and so are the clients this describes: no fsync.
    writeFileAtomic(this.file, JSON.stringify(specs), Durability.PROCESS);
  }
}
