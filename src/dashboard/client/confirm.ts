// An in-page confirmation (a modal <dialog>), not window.confirm: it can say what will happen
// in full and it is testable in a browser that dismisses native dialogs.
import { $ } from "./dom";

export function confirmAction(title: string, text: string, okLabel: string): Promise<boolean> {
  const dialog = $<HTMLDialogElement>("confirm");
  const ok = $<HTMLButtonElement>("confirm-ok");
  const cancel = $<HTMLButtonElement>("confirm-cancel");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  ok.textContent = okLabel;
  return new Promise((resolve) => {
    const finish = (answer: boolean) => {
      ok.removeEventListener("click", onOk);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onOk = () => finish(true);
    const onCancel = () => finish(false);
    const onClose = () => finish(false);
    ok.addEventListener("click", onOk);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    cancel.focus();
  });
}
