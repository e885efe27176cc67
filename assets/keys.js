// DirecT2V Studio keyboard shortcuts (put into the page's <head> by direct2v/ui/layout.py).
// Enter or Ctrl+Enter in the prompt: Direct (Shift+Enter too: a story is a line or two).
// Ctrl+Enter anywhere else: Render, as in the A1111 web UI.
// Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y): the table's Undo / Redo, except while typing in a box,
// where the browser's own undo of the typing applies.
document.addEventListener("keydown", (e) => {
  if (e.isComposing || e.altKey) return;
  const target = e.target instanceof Element ? e.target : null;
  const press = (id) => {
    const button = document.getElementById(id);
    if (!button || button.disabled) return;
    e.preventDefault();
    e.stopPropagation();
    button.click();
  };
  const mod = e.ctrlKey || e.metaKey;
  if (e.key === "Enter") {
    if (target && target.closest("#user-prompt")) return press("direct-btn");
    if (mod) return press("render-btn");
    return;
  }
  const typing = target && target.matches("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  if (!mod || typing) return;
  const key = e.key.toLowerCase();
  if (key === "z") press(e.shiftKey ? "redo" : "undo");
  else if (key === "y") press("redo");
}, true);
