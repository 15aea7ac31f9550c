// From USDT contexts to what BPF.load needs: one cookie per probe location (the prelude's switch key), the C
// prelude, and the uprobe attachments (path, offset, semaphore as ref_ctr_offset, pid filter, cookie). The
// kernel increments each semaphore while its uprobe exists and decrements it when the probe goes, so
// semaphore-guarded probe sites run only while tsbcc is attached, without writing to the traced process.
import { usdtPrelude, type UsdtPreludeLocation } from "../dialect/usdt.js";
import { attachUprobe, type Link } from "../link/index.js";
import { ArgumentError } from "../errors.js";
import { USDT } from "./usdt.js";

export interface UsdtAttachment {
  fnName: string;
  path: string;
  offset: bigint;
  refCtrOffset: bigint;
  pid?: number;
  cookie: number;
  label: string;
}

export interface UsdtPlan {
  prelude: string;
  attachments: UsdtAttachment[];
}

/** Assigns cookies 1.. to every enabled location of every context, in order. */
export function planUsdt(contexts: readonly USDT[]): UsdtPlan {
  const locations: UsdtPreludeLocation[] = [];
  const attachments: UsdtAttachment[] = [];
  contexts.forEach((ctx, i) => {
    if (!(ctx instanceof USDT)) throw new ArgumentError(`usdtContexts[${i}]`, "must be a USDT object (new USDT({ pid }) or new USDT({ path }))");
    for (const { probe, fnName } of ctx.enabled()) {
      for (const loc of probe.locations) {
        const cookie = locations.length + 1;
        const label = `usdt ${probe.provider}:${probe.name} ${probe.binPath}+0x${loc.offset.toString(16)}${ctx.pid ? ` pid ${ctx.pid}` : ""}`;
        locations.push({ cookie, address: loc.address, args: loc.args, label: `${probe.provider}:${probe.name} @0x${loc.address.toString(16)}` });
        attachments.push({ fnName, path: probe.binPath, offset: loc.offset, refCtrOffset: probe.semaphoreOffset, pid: ctx.pid, cookie, label });
      }
    }
  });
  return { prelude: usdtPrelude(locations), attachments };
}

/** Attaches every planned location with `progFd(fnName)`; on failure, detaches what was attached and rethrows. */
export function attachUsdt(plan: UsdtPlan, progFd: (fnName: string) => number): Link[] {
  const links: Link[] = [];
  try {
    for (const a of plan.attachments) {
      links.push(attachUprobe(progFd(a.fnName), {
        path: a.path, offset: a.offset, refCtrOffset: a.refCtrOffset, pid: a.pid, cookie: BigInt(a.cookie), label: a.label,
      }));
    }
  } catch (e) {
    for (const l of links) l.close();
    throw e;
  }
  return links;
}
