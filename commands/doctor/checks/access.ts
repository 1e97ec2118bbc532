/**
 * Access: whether this user can open each heap (read-only, as allocation needs) and /dev/udmabuf
 * (read-write); when not, why — mode, owner, group, the user's groups, the ACL — and the fix as a udev rule
 * or a group to join, printed, never applied.
 * @module
 */

import { formatAclEntry } from "../../../ffi/acl.ts";
import { UDMABUF_HEAP } from "../../../ffi/dma_heap.ts";
import type { DeviceNode, Facts } from "../facts.ts";
import type { DoctorCheck, Verdict } from "../runner.ts";
import { gidOf, groupText, modeText, nodeOf, ownerText, targets, userText } from "../model.ts";

/** The group the udev rule gives heaps to (the usual owner of camera and video devices). */
export const ACCESS_GROUP = "video";
/** Where the suggested udev rule goes. */
export const RULES_FILE = "/etc/udev/rules.d/90-dma-heap.rules";

/** Permission bits: read, write. */
const R = 0o4;
const W = 0o2;

/** The udev rule that gives `group` read-write access to a heap (every heap) or udmabuf. */
export function udevRule(node: DeviceNode, group: string): string {
  const match = node.name === UDMABUF_HEAP ? 'KERNEL=="udmabuf"' : 'SUBSYSTEM=="dma_heap"';
  return `${match}, GROUP="${group}", MODE="0660"`;
}

/** The access bits allocation needs: read for a heap, read and write for udmabuf. */
function needed(node: DeviceNode): number {
  return node.name === UDMABUF_HEAP ? R | W : R;
}

function userName(facts: Facts): string {
  return facts.user.userNames[facts.user.uid] ?? String(facts.user.uid);
}

function inGroup(facts: Facts, gid: number): boolean {
  return facts.user.gid === gid || facts.user.groups.includes(gid);
}

/** Why the mode bits and ACL deny this user, in words. */
function why(facts: Facts, node: DeviceNode): string {
  const { uid } = facts.user;
  const parts: string[] = [];
  if (node.uid !== null && node.gid !== null && node.mode !== null) {
    const want = needed(node);
    const bits = (shift: number) => (node.mode! >> shift) & 0o7;
    if (node.uid === uid) {
      parts.push(`the owner has ${modeBits(bits(6))}, allocation needs ${modeBits(want)}`);
    } else {
      parts.push(`not the owner`);
      parts.push(
        inGroup(facts, node.gid)
          ? `in group ${groupText(facts, node.gid)}, which has ${modeBits(bits(3))}`
          : `not in group ${groupText(facts, node.gid)}`,
      );
      parts.push(`others have ${modeBits(bits(0))}`);
    }
  }
  const groups = [facts.user.gid, ...facts.user.groups.filter((g) => g !== facts.user.gid)];
  parts.push(`groups of uid ${uid}: ${groups.map((g) => groupText(facts, g)).join(", ")}`);
  parts.push(node.acl === null ? "no ACL" : `ACL ${node.acl.map(formatAclEntry).join(",")}`);
  return parts.join("; ");
}

function modeBits(bits: number): string {
  return bits === 0 ? "no access" : (bits & R ? "r" : "-") + (bits & W ? "w" : "-") + (bits & 1 ? "x" : "-");
}

/** The fix for a node this user may not open. */
export function accessFix(facts: Facts, node: DeviceNode): string {
  if (facts.user.uid === 0) {
    return "root is denied by something other than the mode: look for an LSM (SELinux, AppArmor) or device-cgroup denial in dmesg or the audit log";
  }
  const user = userName(facts);
  const want = needed(node);
  // A dedicated group that already has access: joining it is enough.
  if (node.gid !== null && node.gid !== 0 && node.mode !== null && ((node.mode >> 3) & want) === want) {
    return `usermod -aG ${facts.user.groupNames[node.gid] ?? node.gid} ${user} (then log in again)`;
  }
  const rule = udevRule(node, ACCESS_GROUP);
  const trigger = node.name === UDMABUF_HEAP ? "--sysname-match=udmabuf" : "--subsystem-match=dma_heap";
  const video = gidOf(facts, ACCESS_GROUP);
  const join = video !== null && inGroup(facts, video)
    ? ""
    : `${
      video === null ? `groupadd -r ${ACCESS_GROUP}, ` : ""
    }usermod -aG ${ACCESS_GROUP} ${user} (then log in again), `;
  return `add the udev rule ${rule} to ${RULES_FILE}, run udevadm control --reload && udevadm trigger ${trigger}, ` +
    `${join}or use TAG+="uaccess" instead of GROUP and MODE to give it to the user at the seat`;
}

function accessCheck(facts: Facts, name: string): Verdict {
  const node = nodeOf(facts, name);
  const data = {
    path: node.path,
    mode: node.mode === null ? null : modeText(node.mode),
    uid: node.uid,
    gid: node.gid,
    error: node.openError,
  };
  if (node.openError === null) {
    return {
      status: "ok",
      summary: `uid ${userText(facts, facts.user.uid)} may open ${node.path} (${ownerText(facts, node)})`,
      data,
    };
  }
  if (node.openError === "ENOENT") {
    const here = targets({ ...facts, request: { heap: null, resolvedHeap: null, size: null } });
    return {
      status: "fail",
      summary: `no ${name === UDMABUF_HEAP ? "udmabuf" : `heap "${name}"`}: ${node.path} does not exist`,
      fix: here.length === 0
        ? "see kernel.dma-heap and kernel.udmabuf for the kernel options"
        : `use one of the heaps here: ${here.join(", ")}`,
      data,
    };
  }
  if (node.openError === "EACCES" || node.openError === "EPERM") {
    return {
      status: "fail",
      summary:
        `${node.path} is ${ownerText(facts, node)}: uid ${userText(facts, facts.user.uid)} may not open it ` +
        `(${node.openError})`,
      detail: why(facts, node),
      fix: accessFix(facts, node),
      data,
    };
  }
  return {
    status: "fail",
    summary: `opening ${node.path} failed: ${node.openError}`,
    fix: "look for the driver's message in dmesg",
    data,
  };
}

/** The access checks for the heaps this run looks at (`--heap`, or all and udmabuf), in order. */
export function accessChecks(facts: Facts): DoctorCheck[] {
  return targets(facts).map((name) => ({
    id: `access.${name}`,
    section: "access",
    title: `this user can open ${nodeOf(facts, name).path}`,
    requires: [],
    run: (f: Facts) => accessCheck(f, name),
  }));
}
