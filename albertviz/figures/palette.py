"""Colours spelled once: Okabe & Ito's colour-blind-safe palette, and which sharing mode gets which colour.

Okabe, M. and Ito, K. (2008), "Color Universal Design": eight colours that stay distinct under the common
colour-vision deficiencies. Every chart that colours by sharing mode takes its colour from `SHARING_COLORS`.
"""

OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7"}

SHARING_COLORS = {"none": OKABE_ITO["blue"], "all": OKABE_ITO["vermillion"], "ffn": OKABE_ITO["bluish green"],
                  "attention": OKABE_ITO["reddish purple"]}
# Categorical series with no meaning of their own (models picked on a page, groups of a plan), in a fixed order.
SERIES = [OKABE_ITO[c] for c in ("blue", "vermillion", "bluish green", "orange", "reddish purple", "sky blue",
                                 "yellow", "black")]


def sharing_color(mode: str, index: int = 0) -> str:
    """The colour of a sharing mode; anything else (a named arm, a checkpoint) gets a series colour."""
    return SHARING_COLORS.get(mode, SERIES[index % len(SERIES)])
