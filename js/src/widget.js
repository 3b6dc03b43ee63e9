// The kit's serial console widget: an xterm.js terminal relaying keystrokes to the kernel.
// Wire (custom messages, never synced traits):
//   JS -> Python  {type:"ready", view, cols, rows} | {type:"input", view, seq, data} | {type:"resize", cols, rows}
//                 {type:"admin", command, key?, confirmed:true}   (key: the SysRq letter)
//   Python -> JS  {type:"output", data} | {type:"replay", view, data, last} | {type:"clear"}
// A new view ignores "output" until its own replay (history up to now) has arrived, so nothing is
// shown twice or out of order; other views ignore replays that are not theirs.
// Traits (config and state only): status, title, admin_commands, rows.
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";

const ADMIN_LABELS = { nmi: "NMI", sysrq: "SysRq", reset: "Hard reset" };
const ADMIN_WARNINGS = {
  nmi: "Send a non-maskable interrupt? A Linux guest configured to panic on NMI will crash.",
  sysrq: "Send this Magic SysRq key to the guest kernel (h = help, b = reboot now)?",
  reset: "Hard-reset the VM? This is a power cycle: unsaved guest state is lost.",
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el: root }) {
  root.classList.add("kit-serial");
  const bar = el("div", "kit-serial-bar");
  const title = el("span", "kit-serial-title");
  const status = el("span", "kit-serial-status");
  const admin = el("span", "kit-serial-admin");
  const confirm = el("div", "kit-serial-confirm");
  confirm.hidden = true;
  bar.append(title, status, admin);
  const screen = el("div", "kit-serial-screen");
  root.append(bar, confirm, screen);

  const term = new Terminal({
    rows: model.get("rows") || 24,
    convertEol: false,
    scrollback: 10000,
    cursorBlink: true,
    fontFamily: "Menlo, Consolas, 'DejaVu Sans Mono', monospace",
    fontSize: 13,
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(screen);
  const refit = () => {
    try { fit.fit(); } catch (_) { /* not attached yet */ }
  };
  const observer = new ResizeObserver(refit);
  observer.observe(screen);
  refit();

  const showStatus = () => {
    const value = model.get("status") || "closed";
    status.textContent = value;
    status.dataset.status = value;
    title.textContent = model.get("title") || "serial console";
  };
  const askConfirmation = (command) => {
    confirm.replaceChildren();
    confirm.append(el("span", "kit-serial-warning", ADMIN_WARNINGS[command] || `Send ${command}?`));
    let keyInput = null;
    if (command === "sysrq") {
      keyInput = el("input", "kit-serial-sysrq-key");
      keyInput.maxLength = 1;
      keyInput.size = 2;
      keyInput.value = "h";
      keyInput.setAttribute("aria-label", "SysRq key");
      confirm.append(keyInput);
    }
    const yes = el("button", "kit-serial-yes", `Confirm ${ADMIN_LABELS[command] || command}`);
    const no = el("button", "kit-serial-no", "Cancel");
    yes.onclick = () => {
      const message = { type: "admin", command, confirmed: true };
      if (keyInput) {
        if (!/^[0-9a-zA-Z]$/.test(keyInput.value)) { keyInput.focus(); return; }
        message.key = keyInput.value;
      }
      confirm.hidden = true;
      model.send(message);
      term.focus();
    };
    no.onclick = () => { confirm.hidden = true; term.focus(); };
    confirm.append(yes, no);
    confirm.hidden = false;
  };
  const showAdmin = () => {
    admin.replaceChildren();
    for (const command of model.get("admin_commands") || []) {
      const button = el("button", "kit-serial-admin-button", ADMIN_LABELS[command] || command);
      button.dataset.command = command;
      button.onclick = () => askConfirmation(command);
      admin.append(button);
    }
  };
  showStatus();
  showAdmin();
  model.on("change:status", showStatus);
  model.on("change:title", showStatus);
  model.on("change:admin_commands", showAdmin);

  const view = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  let typed = 0;  // keys are numbered: the kernel may dispatch two comm messages out of order
  const onInput = term.onData((data) => model.send({ type: "input", view, seq: typed++, data }));
  const onResize = term.onResize(({ cols, rows }) => model.send({ type: "resize", cols, rows }));
  let replayed = false;
  // What this view received, for tests and benchmarks ("none dropped"): a character count and
  // a running FNV-1a hash over UTF-16 code units, exposed as data attributes on the root.
  let chars = 0;
  let hash = 0x811c9dc5;
  const show = (data) => {
    term.write(data);
    for (let i = 0; i < data.length; i++) hash = Math.imul(hash ^ data.charCodeAt(i), 0x01000193) >>> 0;
    chars += data.length;
    root.dataset.chars = String(chars);
    root.dataset.receivedAt = String(performance.now());
    root.dataset.hash = hash.toString(16);
  };
  const onMessage = (msg) => {
    if (msg.type === "output") {
      if (replayed) show(msg.data);
    } else if (msg.type === "replay") {
      if (msg.view !== view) return;
      if (msg.data) show(msg.data);
      if (msg.last) replayed = true;
    } else if (msg.type === "clear") {
      term.reset();
      chars = 0;
      hash = 0x811c9dc5;
    }
  };
  model.on("msg:custom", onMessage);
  root.dataset.view = view;
  model.send({ type: "ready", view, cols: term.cols, rows: term.rows });

  return () => {
    observer.disconnect();
    onInput.dispose();
    onResize.dispose();
    model.off("msg:custom", onMessage);
    term.dispose();
  };
}

export default { render };
