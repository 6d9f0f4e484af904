"""Instructions for labelled UI elements, in the forms a user writes them: the label itself,
"click X", "the X button", "X field", and, for elements without a usable label, a description by
role and position ("the second text field", "the icon button at the top right").

An instruction is only given when it names one element: a text shown by two elements gets no
text instruction, and a position phrase is used only when no other element of the role shares it.
Standard library only (runs under /usr/bin/python3 with the Tk generator).
"""

ROLE_NOUN = {"button": "button", "icon": "icon button", "checkbox": "checkbox", "radio": "option",
             "entry": "text field", "menu": "menu", "tab": "tab", "listitem": "list item",
             "text": "text", "heading": "heading"}
ORDINALS = ["first", "second", "third", "fourth", "fifth"]

# The forms by role; {t} is the element's text, {l} its label.
TEXT_FORMS = {
    "button": ["{t}", "click {t}", "the {t} button", "press {t}", "click the {t} button"],
    "checkbox": ["{t}", "the {t} checkbox", "check {t}", "toggle {t}"],
    "radio": ["{t}", "the {t} option", "select {t}", "choose {t}"],
    "menu": ["{t}", "the {t} menu", "open the {t} menu", "click {t}"],
    "tab": ["{t}", "the {t} tab", "switch to the {t} tab", "click {t}"],
    "listitem": ["{t}", "select {t} in the list", "the {t} item", "click {t}"],
    "text": ["{t}", "the text {t}"],
    "heading": ["{t}", "the {t} heading"],
}
LABEL_FORMS = ["{l} field", "the {l} field", "type in the {l} field", "the {l} box"]
VALUE_FORMS = ["the field showing {t}", "the {t} field"]


def norm(s):
    return " ".join(s.lower().rstrip(":").split())


def region(box, W, H):
    """The third of the window the element's center lies in, as words ("top left", "center")."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    v = ["top", "", "bottom"][min(2, int(3 * cy / H))]
    h = ["left", "", "right"][min(2, int(3 * cx / W))]
    return " ".join(p for p in (v, h) if p) or "center"


def attach(elements, rng, W, H):
    """Adds "instructions" (a list of strings, possibly empty) to every element, in place."""
    shown = {}
    for e in elements:
        if e["text"]:  # an entry's label is shown by its own text element
            shown[norm(e["text"])] = shown.get(norm(e["text"]), 0) + 1
    by_role = {}
    for e in sorted(elements, key=lambda e: (e["box"][1] // 8, e["box"][0])):  # reading order
        by_role.setdefault(e["role"], []).append(e)
    for e in elements:
        out = []
        t, lab, role = e["text"].rstrip(":"), e["label"].rstrip(":"), e["role"]
        if role == "entry":
            if lab and shown.get(norm(lab)) == 1:
                out += rng.sample(LABEL_FORMS, 2)
            if t and shown.get(norm(t)) == 1:
                out.append(rng.choice(VALUE_FORMS).format(t=t))
            out = [f.format(l=lab) if "{l}" in f else f for f in out]
        elif t and role in TEXT_FORMS and shown.get(norm(t)) == 1:
            out += [f.format(t=t) for f in rng.sample(TEXT_FORMS[role], 2)]
        out += position_phrases(e, by_role[role], rng, W, H, unlabelled=not out)
        e["instructions"] = out


def position_phrases(e, same_role, rng, W, H, unlabelled):
    """Role and position: an ordinal in reading order, or the window region when it is unique."""
    noun = ROLE_NOUN[e["role"]]
    out = []
    if unlabelled or rng.random() < 0.15:
        k = same_role.index(e)
        if len(same_role) == 1:
            out.append(f"the {noun}")
        elif k == len(same_role) - 1 and rng.random() < 0.5:
            out.append(f"the last {noun}")
        elif k < len(ORDINALS):
            out.append(f"the {ORDINALS[k]} {noun}")
        where = region(e["box"], W, H)
        if len(same_role) > 1 and sum(region(o["box"], W, H) == where for o in same_role) == 1:
            out.append(f"the {noun} at the {where}" if where != "center" else f"the {noun} in the center")
    return out
