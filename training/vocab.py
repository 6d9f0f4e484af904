"""Words for generated screens and text strips: the system dictionary plus common UI vocabulary,
split once and for all into a training part and a held-out part.

The split is a hash of the lower-cased word (crc32 % 10 == 0 -> held out), so it is the same on
every machine, for every generator, and independent of the order of the word list. Standard
library only: the Tk generator runs under Debian's /usr/bin/python3, the rest under the venv.
"""
import os
import zlib

# Debian's wamerican (scripts/install-deps training installs it); GUI_AGENT_DICT names a copy on
# machines without it (an accelerator run).
DICT_PATH = os.environ.get("GUI_AGENT_DICT", "/usr/share/dict/words")

# Words that real toolkits put on buttons, menus, tabs and labels.
UI_WORDS = """
OK Cancel Apply Close Save Open New Delete Remove Add Edit View Help File Tools Options
Settings Preferences Search Find Replace Undo Redo Cut Copy Paste Print Export Import Next Back
Previous Finish Continue Skip Retry Yes No Abort Ignore Browse Upload Download Refresh Reload
Submit Send Reply Forward Archive Rename Move Share Login Logout Sign Register Account Profile
Password Username Email Name Address Phone City Country Date Time Start Stop Pause Play Record
Zoom Fit Reset Default Advanced General Display Sound Network Privacy Security Update Install
Uninstall Enable Disable Show Hide Select All None Clear Format Insert Window Tab Page Home End
Up Down Left Right Top Bottom Size Color Font Style Theme Language Keyboard Mouse Printer Folder
Document Image Video Music Notes Calendar Contacts Mail Inbox Outbox Drafts Trash Spam Filter
Sort Group Details Summary Status Progress Log Debug Run Build Test Deploy Connect Disconnect
Sync Backup Restore Quit Exit About License Terms Accept Decline Confirm Verify Change Manage
""".split()

# Phrases seen on dialogs and check boxes, kept whole.
UI_PHRASES = [
    "Remember me", "Save as", "Save all", "Open recent", "Select all", "Check for updates",
    "Show hidden files", "Dark mode", "Sign in", "Sign out", "Log in", "Create account",
    "Forgot password", "Keep me signed in", "Do not ask again", "Apply changes", "Reset to defaults",
    "Enable notifications", "Auto save", "Word wrap", "Line numbers", "Full screen", "Zoom in",
    "Zoom out", "Page setup", "Print preview", "Find next", "Replace all", "Match case",
    "Whole words", "Start over", "Try again", "Learn more", "Go back", "Add new", "Empty trash",
]


def is_heldout(word):
    """True for the tenth of all words kept out of training (a fixed hash, not a random draw)."""
    return zlib.crc32(word.lower().encode("utf-8")) % 10 == 0


def _dictionary():
    if not os.path.exists(DICT_PATH):
        raise SystemExit(f"{DICT_PATH} is missing: run scripts/install-deps training (package wamerican)")
    with open(DICT_PATH, encoding="utf-8") as f:
        words = [w.strip() for w in f]
    # Plain ASCII words of UI length; no possessives, no accents.
    return sorted({w for w in words if 3 <= len(w) <= 11 and w.isascii() and w.isalpha()})


def word_lists(split):
    """(dictionary words, UI words, UI phrases) of one split: "train" or "heldout"."""
    if split not in ("train", "heldout"):
        raise ValueError(f"unknown split {split!r} (train or heldout)")
    keep = (lambda w: is_heldout(w)) if split == "heldout" else (lambda w: not is_heldout(w))
    words = [w for w in _dictionary() if keep(w)]
    ui = [w for w in UI_WORDS if keep(w)]
    phrases = [p for p in UI_PHRASES if keep(p)]
    return words, ui, phrases


def label(rng, lists, max_words=2):
    """A widget label: a UI word (30 %), a UI phrase (12 %) or 1..max_words dictionary words,
    capitalised half of the time (title case a tenth). `lists` is word_lists()'s triple."""
    words, ui, phrases = lists
    r = rng.random()
    if r < 0.3 and ui:
        return rng.choice(ui)
    if r < 0.42 and phrases:
        return rng.choice(phrases)
    text = " ".join(rng.choice(words) for _ in range(rng.randint(1, max_words)))
    case = rng.random()
    if case < 0.5:
        return text[0].upper() + text[1:]
    return text.title() if case < 0.6 else text
