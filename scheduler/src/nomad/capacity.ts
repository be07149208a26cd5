import type { AllocationListStub, NodeListStub } from './api-types.js';
import { isSchedulable } from './client.js';

/** What one agent allocation asks of a node. */
export interface AgentAsk {
  cpuMhz: number;
  memoryMb: number;
}

const LIVE = new Set(['pending', 'running']);

/**
 * How many more agents the cluster can place now: per ready, eligible, non-draining node, its
 * resources minus what Nomad reserves and what live allocations hold, divided by one agent's
 * ask (the tighter of CPU and memory). Pure, so it is tested on its own.
 */
export function freeAgentSlots(nodes: readonly NodeListStub[], allocs: readonly AllocationListStub[], ask: AgentAsk): number {
  let slots = 0;
  for (const node of nodes) {
    if (!isSchedulable(node)) continue;
    let cpu = (node.NodeResources?.Cpu?.CpuShares ?? 0) - (node.ReservedResources?.Cpu?.CpuShares ?? 0);
    let mem = (node.NodeResources?.Memory?.MemoryMB ?? 0) - (node.ReservedResources?.Memory?.MemoryMB ?? 0);
    for (const alloc of allocs) {
      if (alloc.NodeID !== node.ID || !LIVE.has(alloc.ClientStatus ?? '')) continue;
      for (const task of Object.values(alloc.AllocatedResources?.Tasks ?? {})) {
        cpu -= task.Cpu?.CpuShares ?? 0;
        mem -= task.Memory?.MemoryMB ?? 0;
      }
    }
    slots += Math.max(0, Math.min(Math.floor(cpu / Math.max(1, ask.cpuMhz)), Math.floor(mem / Math.max(1, ask.memoryMb))));
  }
  return slots;
}
