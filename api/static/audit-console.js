// 消保账本 · 审计控制台 — verifies the ledger in the browser, with nothing but WebCrypto.
//
// Written apart from the server's Python verifier (infrastructure/checkpoints.py, proofs.py):
// the signed note (c2sp.org/signed-note), the checkpoint (c2sp.org/tlog-checkpoint), the leaf
// layout (docs/architecture.md) and RFC 9162 §2.1.3.2 / §2.1.4.2 are read from their texts.
// The verifier key is the one the auditor pinned (localStorage), never one the server sends.
"use strict";

const KEY_STORE = "xiaobao-audit-verifier-key";
const SEEN_STORE = "xiaobao-audit-last-checkpoint";
const KINDS = { claims: "理赔", complaints: "投诉", disputes: "纠纷" };
const encoder = new TextEncoder();

// ---------- bytes ----------
function fromBase64(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) {
    throw new Error("不是标准 base64");
  }
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
function fromHex(text) {
  if (typeof text !== "string" || !/^([0-9a-f]{2})*$/.test(text)) throw new Error("不是十六进制");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}
function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// ---------- RFC 9162 §2.1: hashes and proofs ----------
const leafHash = (leaf) => sha256(concat(Uint8Array.of(0), leaf));
const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

async function verifyInclusion(hash, index, size, path, root) {
  // §2.1.3.2, step by step.
  if (!(index >= 0 && index < size)) return false;
  let fn = BigInt(index), sn = BigInt(size) - 1n, r = hash;
  for (const p of path) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while (!((fn & 1n) === 1n || fn === 0n)) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && sameBytes(r, root);
}

async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  // §2.1.4.2; equal sizes need equal roots and an empty proof.
  if (first > second || first < 0) return false;
  if (first === second) return proof.length === 0 && sameBytes(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0 && sameBytes(firstRoot, await sha256(new Uint8Array()));
  if (proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : proof.slice();
  let fn = BigInt(first) - 1n, sn = BigInt(second) - 1n;
  while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while (!((fn & 1n) === 1n || fn === 0n)) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && sameBytes(fr, firstRoot) && sameBytes(sr, secondRoot);
}

// ---------- signed notes and checkpoints ----------
async function parseVerifierKey(text) {
  // name+keyid+base64(0x01 || 32-byte Ed25519 key); the id is SHA-256(name \n 0x01 key)[:4].
  const first = text.indexOf("+"), second = text.indexOf("+", first + 1);
  if (first <= 0 || second < 0) throw new Error("验证密钥应为 名称+密钥编号+公钥");
  const name = text.slice(0, first), idHex = text.slice(first + 1, second);
  if (/\s/.test(name) || !/^[0-9a-f]{8}$/.test(idHex)) throw new Error("验证密钥的名称或编号不合格式");
  const encoded = fromBase64(text.slice(second + 1));
  if (encoded.length !== 33 || encoded[0] !== 1) throw new Error("验证密钥不是 Ed25519 公钥");
  const id = (await sha256(concat(encoder.encode(name + "\n"), encoded))).slice(0, 4);
  if (toHex(id) !== idHex) throw new Error("验证密钥的编号与名称和公钥不符");
  const key = await crypto.subtle.importKey("raw", encoded.slice(1), { name: "Ed25519" }, false, ["verify"]);
  return { name, id, key };
}

async function openNote(note, pinned) {
  // text, a blank line, then "— name base64(keyid || signature)" lines.
  if (typeof note !== "string" || !note.endsWith("\n")) throw new Error("签名注记格式错误");
  const cut = note.lastIndexOf("\n\n");
  if (cut < 0) throw new Error("签名注记没有签名部分");
  const text = note.slice(0, cut + 1);
  let verified = false;
  for (const line of note.slice(cut + 2, -1).split("\n")) {
    if (!line.startsWith("\u2014 ")) throw new Error("签名行格式错误");
    const [name, encoded] = line.slice(2).split(" ");
    const keyed = fromBase64(encoded || "");
    if (name !== pinned.name || !sameBytes(keyed.slice(0, 4), pinned.id)) continue;
    if (keyed.length !== 68) throw new Error("签名长度错误");
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, pinned.key, keyed.slice(4), encoder.encode(text));
    if (!ok) throw new Error("检查点签名无效");
    verified = true;
  }
  if (!verified) throw new Error("检查点没有所固定密钥（" + pinned.name + "）的签名");
  return text;
}

function parseCheckpoint(text) {
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3 || !/^(0|[1-9][0-9]*)$/.test(lines[1])) throw new Error("检查点正文格式错误");
  const root = fromBase64(lines[2]);
  if (root.length !== 32) throw new Error("检查点根哈希长度错误");
  return { origin: lines[0], size: Number(lines[1]), root };
}

// ---------- leaves: "XBL1" u64 position, 16-byte stream id, u64 version, topic, timestamp, state ----------
function decodeLeaf(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 36 || new TextDecoder().decode(bytes.slice(0, 4)) !== "XBL1") throw new Error("不是本账本的叶子");
  const position = Number(view.getBigUint64(4));
  const hex = toHex(bytes.slice(12, 28));
  const stream = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const version = Number(view.getBigUint64(28));
  let at = 36;
  const parts = [];
  for (const width of [2, 2, 4]) {
    if (at + width > bytes.length) throw new Error("叶子被截断");
    const length = width === 2 ? view.getUint16(at) : view.getUint32(at);
    at += width;
    if (at + length > bytes.length) throw new Error("叶子被截断");
    parts.push(bytes.slice(at, at + length));
    at += length;
  }
  if (at !== bytes.length) throw new Error("叶子末尾有多余字节");
  const decoder = new TextDecoder();
  return { position, stream, version, topic: decoder.decode(parts[0]), timestamp: decoder.decode(parts[1]) };
}

// ---------- the page ----------
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}
function beijing(text) {
  const at = new Date(text);
  if (!text || isNaN(at)) return "—";
  const t = new Date(at.getTime() + 8 * 3600 * 1000);
  const two = (n) => String(n).padStart(2, "0");
  return `${t.getUTCFullYear()}-${two(t.getUTCMonth() + 1)}-${two(t.getUTCDate())} ${two(t.getUTCHours())}:${two(t.getUTCMinutes())} 北京时间`;
}
const ROLES = {
  hospital: "医院", insurer: "保险公司", regulator_platform: "12378平台", mediator: "调解组织",
  arbitrator: "仲裁机构", court: "法院", handler: "投诉处理人员", supervisor: "主管",
  auditor: "审计人员", regulator: "监管人员", admin: "管理员", system: "系统",
};
function actorName(actor) {
  if (!actor) return "—";
  if (typeof actor !== "object") return String(actor);
  const role = ROLES[actor.role] || actor.role || "";
  return `${actor.name || actor.partner_id || "—"}（${role}）`;
}
async function getJson(path) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const error = new Error((body && (body.detail || body.title)) || "HTTP " + response.status);
    error.status = response.status;
    throw error;
  }
  return body;
}

let pinned = null;
const checkpoints = new Map(); // size → verified {size, root}

async function signedCheckpoint(size) {
  if (checkpoints.has(size)) return checkpoints.get(size);
  const answer = await getJson("/v1/ledger/checkpoint" + (size === undefined ? "" : "?size=" + size));
  const found = parseCheckpoint(await openNote(answer.note, pinned));
  checkpoints.set(found.size, found);
  return found;
}

function showKey() {
  const status = $("key-status");
  const stored = localStorage.getItem(KEY_STORE);
  status.className = stored ? "ok" : "bad";
  status.textContent = stored ? "已固定验证密钥：" + stored.split("+")[0] + "（" + stored.split("+")[1] + "）" : "未固定验证密钥：不验证任何内容。请粘贴审计方独立取得的验证密钥。";
}

async function loadKey() {
  pinned = null;
  const stored = localStorage.getItem(KEY_STORE);
  if (!stored) return;
  try {
    pinned = await parseVerifierKey(stored);
  } catch (e) {
    $("key-status").className = "bad";
    $("key-status").textContent = "固定的验证密钥无效：" + e.message;
  }
}

async function checkConsistency() {
  const out = $("consistency");
  out.removeAttribute("data-checked");
  out.textContent = "";
  try {
    await consistency(out);
  } finally {
    out.setAttribute("data-checked", "true");
  }
}

async function consistency(out) {
  if (!pinned) { out.className = "bad"; out.textContent = "未固定验证密钥，未做一致性检查。"; return; }
  try {
    const current = await signedCheckpoint(undefined);
    const seen = JSON.parse(localStorage.getItem(SEEN_STORE) || "null");
    if (!seen || seen.key !== localStorage.getItem(KEY_STORE)) {
      out.className = "ok";
      out.textContent = `当前检查点（树大小 ${current.size}）签名已验证；此前未记录检查点，已记下以供下次一致性检查。`;
    } else {
      if (seen.size > current.size) throw new Error(`当前树（${current.size}）小于上次所见（${seen.size}）`);
      const proof = await getJson(`/v1/ledger/proof/consistency?first=${seen.size}&second=${current.size}`);
      const ok = await verifyConsistency(seen.size, current.size, fromHex(seen.root), current.root, proof.hashes.map(fromHex));
      if (!ok) throw new Error(`树大小 ${seen.size} 到 ${current.size} 的一致性证明不成立`);
      out.className = "ok";
      out.textContent = `一致性已验证：检查点 ${seen.size} → 检查点 ${current.size}（树大小 ${seen.size} → ${current.size}）`;
    }
    localStorage.setItem(SEEN_STORE, JSON.stringify({ key: localStorage.getItem(KEY_STORE), size: current.size, root: toHex(current.root) }));
  } catch (e) {
    out.className = "bad";
    out.textContent = "一致性检查失败：" + e.message;
  }
}

async function verifyEvent(kind, id, event) {
  // Returns the text to show; throws an Error naming what failed.
  const proof = event.proof;
  if (!proof) throw new Error("尚未封存，没有包含证明");
  const entries = await getJson(`/v1/ledger/entries?start=${proof.index}&end=${proof.index + 1}`);
  const entry = entries.entries[0];
  if (!entry || entry.index !== proof.index) throw new Error("账本没有给出该叶子");
  const leaf = fromBase64(entry.leaf);
  const decoded = decodeLeaf(leaf);
  if (decoded.position !== event.position || entry.position !== event.position) throw new Error(`叶子的位置是 ${decoded.position}，不是 ${event.position}`);
  if (decoded.stream !== id) throw new Error("叶子的记录编号与所查记录不符");
  if (decoded.version !== event.version) throw new Error(`叶子的版本是 ${decoded.version}，不是 ${event.version}`);
  const checkpoint = await signedCheckpoint(proof.size);
  const ok = await verifyInclusion(await leafHash(leaf), proof.index, checkpoint.size, proof.hashes.map(fromHex), checkpoint.root);
  if (!ok) throw new Error(`包含证明未能到达检查点 ${checkpoint.size} 的签名根（事件内容与封存时不符）`);
  return `已验证：包含于检查点 ${checkpoint.size}（树大小 ${checkpoint.size}）`;
}

async function showState(kind, id, version) {
  const out = $("state");
  try {
    const state = await getJson(`/v1/${kind}/${id}?as_of_version=${version}`);
    out.textContent = `版本 ${version} 时的状态：\n` + JSON.stringify(state, null, 2);
  } catch (e) {
    out.textContent = [404, 409, 422].includes(e.status) ? `没有版本 ${version} 的状态。` : "读取失败：" + e.message;
  }
}

async function lookUp(kind, id) {
  id = id.toLowerCase();
  const result = $("result");
  result.removeAttribute("data-done");
  result.textContent = "";
  $("state").textContent = "";
  const read = (k) => getJson(`/v1/${k}/${encodeURIComponent(id)}/history?proofs=true`);
  let history;
  try {
    history = await read(kind);
  } catch (e) {
    // An id pasted under the wrong kind: look for it among the other kinds before giving up.
    const others = Object.keys(KINDS).filter((k) => k !== kind);
    let found = null;
    if (e.status === 404) {
      for (const other of others) {
        try { history = await read(other); found = other; break; } catch (_) { /* not this kind either */ }
      }
    }
    if (found === null) {
      const text = e.status === 404 ? `未找到${KINDS[kind]}：${id}（${others.map((k) => KINDS[k]).join("、")}中也没有此编号）`
        : e.status === 422 ? `未找到${KINDS[kind]}：${id}（编号格式不正确）` : "查询失败：" + e.message;
      result.append(el("p", { class: "bad", id: "not-found" }, text));
      result.setAttribute("data-done", "true");
      return;
    }
    result.append(el("p", { id: "kind-note" }, `编号 ${id} 不是${KINDS[kind]}，是${KINDS[found]}：`));
    kind = found;
    $("kind").value = found;
  }
  const events = history.events;
  result.append(el("h2", {}, `${KINDS[kind]} ${id}（${events.length} 个事件）`));
  const travel = el("form", { id: "travel" },
    el("label", {}, "时间回溯：版本 ", el("input", { type: "number", id: "version", min: "1", value: String(events.length) })),
    " ", el("button", { type: "submit", id: "travel-go" }, "查看该版本状态"));
  travel.addEventListener("submit", (e) => { e.preventDefault(); showState(kind, id, Number($("version").value)); });
  result.append(travel);
  const table = el("table", { id: "events" },
    el("tr", {}, ...["版本", "位置", "事件", "发生时间", "记录时间", "操作人", "验证"].map((h) => el("th", {}, h))));
  const checks = [];
  for (const event of events) {
    const verdict = el("td", { class: "pending", "data-version": String(event.version) }, pinned ? "验证中…" : "未验证（未固定验证密钥）");
    const row = el("tr", { "data-version": String(event.version), "data-position": String(event.position) },
      el("td", {}, String(event.version)), el("td", {}, String(event.position)), el("td", {}, event.type),
      el("td", {}, beijing(event.occurred_at)), el("td", {}, beijing(event.recorded_at)),
      el("td", { class: "actor" }, actorName(event.actor)), verdict);
    row.addEventListener("click", () => { $("version").value = String(event.version); showState(kind, id, event.version); });
    table.append(row);
    if (!pinned) continue;
    checks.push(verifyEvent(kind, id, event).then(
      (text) => { verdict.className = "ok verdict"; verdict.textContent = text; },
      (e) => { verdict.className = "bad verdict"; verdict.textContent = `验证失败：版本 ${event.version}（位置 ${event.position}，${event.type}）：${e.message}`; }));
  }
  result.append(table);
  await Promise.all(checks);
  result.setAttribute("data-done", "true");
}

async function findClaim(encounter, hospital) {
  try {
    const found = await getJson(`/v1/claims?encounter_id=${encodeURIComponent(encounter)}&hospital=${encodeURIComponent(hospital)}`);
    if (!found.items.length) throw Object.assign(new Error(""), { status: 404 });
    await lookUp("claims", found.items[0].id);
  } catch (e) {
    $("result").textContent = "";
    $("result").append(el("p", { class: "bad", id: "not-found" }, `未找到医院 ${hospital} 的就诊 ${encounter} 的理赔`));
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  $("key-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("consistency").removeAttribute("data-checked");
    const text = $("key").value.trim();
    try {
      await parseVerifierKey(text);
    } catch (err) {
      $("key-status").className = "bad";
      $("key-status").textContent = "验证密钥无效：" + err.message;
      return;
    }
    localStorage.setItem(KEY_STORE, text);
    checkpoints.clear();
    showKey();
    await loadKey();
    await checkConsistency();
  });
  $("key-clear").addEventListener("click", () => {
    localStorage.removeItem(KEY_STORE);
    pinned = null;
    checkpoints.clear();
    showKey();
  });
  $("find-form").addEventListener("submit", (e) => {
    e.preventDefault();
    lookUp($("kind").value, $("record").value.trim());
  });
  $("encounter-form").addEventListener("submit", (e) => {
    e.preventDefault();
    findClaim($("encounter").value.trim(), $("hospital").value.trim());
  });
  showKey();
  await loadKey();
  await checkConsistency();
  document.body.setAttribute("data-ready", "true");
});
